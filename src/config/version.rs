//! `required_version` constraints: comma-separated `>=`, `>`, `<=`, `<`, `=`, `!=` and `~>`
//! clauses over dotted versions, as Terraform writes them.

/// Whether `version` satisfies `constraint`; `Err` says what is malformed.
pub fn satisfies(constraint: &str, version: &str) -> Result<bool, String> {
    let have = parse(version).ok_or_else(|| format!("bad version \"{version}\""))?;
    for clause in constraint.split(',') {
        let clause = clause.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("=", clause));
        let want = parse(rest).ok_or_else(|| {
            format!("expected a version constraint such as \">= 0.1\", found \"{clause}\"")
        })?;
        let ok = match op {
            ">=" => have >= want,
            ">" => have > want,
            "<=" => have <= want,
            "<" => have < want,
            "!=" => have != want,
            "~>" => {
                // ~> 1.2 allows 1.x >= 1.2; ~> 1.2.3 allows 1.2.x >= 1.2.3.
                let n = rest.split('.').count().max(2);
                have >= want && have[..n - 1] == want[..n - 1]
            }
            _ => have == want,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse(v: &str) -> Option<Vec<u64>> {
    let mut out: Vec<u64> = v
        .trim()
        .trim_start_matches('v')
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    while out.len() < 3 {
        out.push(0);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn constraints() {
        assert!(satisfies(">= 0.1", "0.1.0").unwrap());
        assert!(satisfies(">= 0.1, < 1.0", "0.4.2").unwrap());
        assert!(!satisfies(">= 1.0", "0.4.2").unwrap());
        assert!(satisfies("~> 0.1", "0.9.0").unwrap());
        assert!(!satisfies("~> 0.1.2", "0.2.0").unwrap());
        assert!(satisfies("0.1.0", "0.1.0").unwrap());
        assert!(satisfies(">= banana", "0.1.0").is_err());
    }
}
