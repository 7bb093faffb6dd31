//! PeerIds are long; people see the shortest suffix that still tells the
//! listed peers apart (two nodes may share a display name).

use std::collections::BTreeMap;

/// Shortest suffix shown, even when fewer characters would be unique.
pub const MIN_SHORT_ID: usize = 6;

/// The shortest suffix of `id` (at least [`MIN_SHORT_ID`] characters) that
/// is not also a suffix of any of `others`.
pub fn short_id<I, S>(id: &str, others: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let others: Vec<S> = others.into_iter().collect();
    let chars: Vec<char> = id.chars().collect();
    let mut n = MIN_SHORT_ID.min(chars.len());
    while n < chars.len() {
        let suffix: String = chars[chars.len() - n..].iter().collect();
        if !others
            .iter()
            .any(|o| o.as_ref() != id && o.as_ref().ends_with(&suffix))
        {
            return suffix;
        }
        n += 1;
    }
    id.to_string()
}

/// Short IDs for a whole list, each unique among the list.
pub fn short_ids(ids: &[String]) -> BTreeMap<String, String> {
    ids.iter()
        .map(|id| (id.clone(), short_id(id, ids.iter())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_shortest_unique_with_a_minimum() {
        assert_eq!(short_id("abcdefghij", ["zzzzzzzzzz"]), "efghij");
        assert_eq!(short_id("abcXdefghij", ["abcYdefghij"]), "Xdefghij");
        assert_eq!(short_id("abc", Vec::<String>::new()), "abc");
        assert_eq!(short_id("same", ["same"]), "same");
        let ids = vec!["11xyz123456".to_string(), "22xyz123456".to_string()];
        let m = short_ids(&ids);
        assert_eq!(m["11xyz123456"], "1xyz123456");
        assert_eq!(m["22xyz123456"], "2xyz123456");
    }
}
