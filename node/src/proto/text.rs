//! Text that a peer chose and a person will read: display names (presence,
//! DNS-SD TXT), an invite's `caller_name`, a hangup's `detail`. A terminal
//! obeys control characters (escape sequences can rewrite the screen or the
//! title), bidi overrides reorder what is shown (U+202E makes what follows
//! read backwards), and zero-width characters make two different strings look
//! the same. Names carrying any of them are refused at decode; free-form
//! labels and details are kept but such characters are replaced by a
//! visible `\u{…}` escape, so the message still does its job.

/// A character that must never reach a screen as sent.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'                      // soft hyphen (invisible)
            | '\u{034F}'                    // combining grapheme joiner
            | '\u{061C}'                    // Arabic letter mark (bidi)
            | '\u{115F}' | '\u{1160}'       // Hangul fillers (blank)
            | '\u{180E}'                    // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'       // zero-width, LRM/RLM
            | '\u{2028}'..='\u{202E}'       // line/paragraph separators, bidi embeddings/overrides
            | '\u{2060}'..='\u{206F}'       // word joiner, invisible operators, bidi isolates
            | '\u{3164}' | '\u{FFA0}'       // Hangul fillers (blank)
            | '\u{FE00}'..='\u{FE0F}'       // variation selectors
            | '\u{FEFF}'                    // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}'       // interlinear annotations
            | '\u{E0000}'..='\u{E007F}'     // tag characters
        )
}

/// The first unsafe character of `s`, if any.
pub fn first_unsafe(s: &str) -> Option<char> {
    s.chars().find(|c| is_unsafe(*c))
}

/// `s` with every unsafe character written as a visible `\u{XXXX}` (and a
/// backslash doubled, so the escape cannot be forged by the sender).
pub fn escape(s: &str) -> String {
    if !s.chars().any(|c| c == '\\' || is_unsafe(c)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey_or_hide() {
        assert_eq!(escape("alice"), "alice");
        assert_eq!(escape("Zoë 日本"), "Zoë 日本");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1B}[2Jb");
        assert_eq!(escape("x\u{9b}31m"), "x\\u{9B}31m", "C1 CSI");
        assert_eq!(escape("ali\u{202E}ecb"), "ali\\u{202E}ecb");
        assert_eq!(escape("bo\u{200B}b"), "bo\\u{200B}b");
        assert_eq!(
            escape("a\\u{1B}"),
            "a\\\\u{1B}",
            "a forged escape stays visible"
        );
        assert_eq!(first_unsafe("ok\u{2066}"), Some('\u{2066}'));
        assert_eq!(first_unsafe("ok"), None);
    }

    #[test]
    fn escaped_text_is_always_safe() {
        for s in ["\u{0}\u{7f}\u{85}", "\u{FEFF}x\u{E0041}", "\r\n\t"] {
            assert_eq!(first_unsafe(&escape(s)), None, "{s:?}");
        }
    }
}
