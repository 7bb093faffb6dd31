//! Reads newline-terminated lines with a length cap. An oversized line is
//! reported as such and skipped up to its newline, so the connection can
//! answer with an error and go on, without buffering the garbage.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Data(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads the next line (without its newline). A final line without a
/// newline is returned as data; EOF on an empty buffer is [`Line::Eof`].
pub async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, cap: usize) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let mut too_long = false;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Eof,
                (false, false) => Line::Data(buf),
            });
        }
        let (chunk, found) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > cap {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(available.len());
        r.consume(used);
        if found.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Data(buf)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tokio::io::BufReader;

    #[tokio::test]
    async fn lines_are_split_and_capped() {
        let input = b"one\nxxxxxxxxxx\ntwo\nlast".to_vec();
        let mut r = BufReader::with_capacity(4, &input[..]);
        assert_eq!(
            read_line(&mut r, 5).await.unwrap(),
            Line::Data(b"one".to_vec())
        );
        assert_eq!(read_line(&mut r, 5).await.unwrap(), Line::TooLong);
        assert_eq!(
            read_line(&mut r, 5).await.unwrap(),
            Line::Data(b"two".to_vec())
        );
        assert_eq!(
            read_line(&mut r, 5).await.unwrap(),
            Line::Data(b"last".to_vec())
        );
        assert_eq!(read_line(&mut r, 5).await.unwrap(), Line::Eof);
    }
}
