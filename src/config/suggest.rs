//! Near-miss hints: "did you mean …?" for misspelt attribute names, types, references,
//! variables and functions.

/// The candidate closest to `name`, when it is close enough to be a likely typo.
pub fn closest<'a, S: AsRef<str>>(name: &str, candidates: &'a [S]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| *c != name)
        .map(|c| (distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// `; did you mean "x"?` for the closest candidate, or an empty string.
pub fn did_you_mean<S: AsRef<str>>(name: &str, candidates: &[S]) -> String {
    match closest(name, candidates) {
        Some(c) => format!("; did you mean \"{c}\"?"),
        None => String::new(),
    }
}

/// Levenshtein distance (insertions, deletions, substitutions), with adjacent swaps counted as
/// one edit: `retnetion` is one edit from `retention`.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_names() {
        let names = ["retention", "day_of_week", "server_id"];
        assert_eq!(closest("retnetion", &names), Some("retention"));
        assert_eq!(closest("server", &names), None);
        assert_eq!(closest("server_ids", &names), Some("server_id"));
        assert_eq!(closest("zzz", &names), None);
        assert_eq!(
            did_you_mean("lenght", &["length", "lower"]),
            "; did you mean \"length\"?"
        );
        assert_eq!(distance("abc", "abc"), 0);
    }
}
