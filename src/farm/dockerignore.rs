//! `.dockerignore` with Docker's own semantics (moby's patternmatcher), which
//! differ from `.gitignore`: every pattern is anchored at the context root, `*`
//! and `?` stop at `/`, `**` crosses directories, a pattern that matches a
//! directory excludes what is below it, `!` re-includes, and the last match wins.

use regex::Regex;

#[derive(Debug, thiserror::Error)]
#[error("line {line} of .dockerignore, '{pattern}', is not a valid pattern: {reason}")]
pub struct PatternError {
    line: usize,
    pattern: String,
    reason: String,
}

#[derive(Debug)]
struct Pattern {
    regex: Regex,
    exclusion: bool,
}

/// The parsed patterns of one `.dockerignore`.
#[derive(Debug, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(body);
            let cleaned = cleaned.trim_start_matches('/');
            if cleaned.is_empty() || cleaned == "." {
                continue;
            }
            let regex = Regex::new(&to_regex(cleaned)).map_err(|e| PatternError {
                line: i + 1,
                pattern: line.to_string(),
                reason: e.to_string(),
            })?;
            patterns.push(Pattern { regex, exclusion });
        }
        Ok(DockerIgnore { patterns })
    }

    /// Whether any pattern re-includes something (`!`): then an excluded
    /// directory must still be walked.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        let parents: Vec<&str> = match path.rsplit_once('/') {
            Some((parent, _)) => parent.split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            // An exception can only change a path that is excluded so far.
            if p.exclusion != matched {
                continue;
            }
            // A pattern that matches a directory matches all below it.
            let hit = p.regex.is_match(&path)
                || (1..=parents.len()).any(|n| p.regex.is_match(&parents[..n].join("/")));
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }
}

/// Go's `filepath.Clean` for `/`-separated relative paths.
fn clean(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// moby's translation of a pattern to a regular expression.
fn to_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                // `**/` is `**`: swallow the slash.
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                }
                if i + 1 == chars.len() {
                    re.push_str(".*");
                } else {
                    re.push_str("(.*/)?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => match chars.get(i + 1) {
                Some(next) => {
                    re.push_str(&regex::escape(&next.to_string()));
                    i += 1;
                }
                None => re.push_str(r"\\"),
            },
            '[' | ']' => re.push(c),
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' | '^' => {
                re.push('\\');
                re.push(c);
            }
            _ => re.push(c),
        }
        i += 1;
    }
    re.push('$');
    re
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &str, path: &str) -> bool {
        DockerIgnore::parse(patterns).unwrap().excludes(path)
    }

    // Cases from moby's patternmatcher tests, and Docker's documented examples.
    #[test]
    fn docker_semantics() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "fileutils.go", true),
            ("*.go", "fileutils.go", true),
            ("*.go", "docs/fileutils.go", false),
            ("**/*.go", "docs/fileutils.go", true),
            ("**/*.go", "fileutils.go", true),
            ("docs", "docs/README.md", true),
            ("docs", "other/docs/README.md", false),
            ("docs/*", "docs/a/b/c.md", true),
            ("/docs", "docs/x", true),
            ("*/temp*", "somedir/temporary.txt", true),
            ("*/*/temp*", "somedir/subdir/temporary.txt", true),
            ("temp?", "temp1", true),
            ("temp?", "temp12", false),
            ("**", "anything/at/all", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "ab", false),
            ("dir/**", "dir/a", true),
            ("dir/**", "dirx", false),
            ("[a-c].txt", "b.txt", true),
            ("[a-c].txt", "d.txt", false),
            ("*.md\n!README.md", "README.md", false),
            ("*.md\n!README.md", "CHANGES.md", true),
            ("!README.md\n*.md", "README.md", true),
            (
                "node_modules\n!node_modules/keep",
                "node_modules/keep",
                false,
            ),
            (
                "node_modules\n!node_modules/keep",
                "node_modules/other",
                true,
            ),
            ("a.b", "axb", false),
            ("# comment\n\n  secret.env  ", "secret.env", true),
            ("./build/../out", "out/x", true),
            ("\\*star", "*star", true),
            ("\\*star", "xstar", false),
        ];
        for (patterns, path, want) in cases {
            assert_eq!(excluded(patterns, path), *want, "{patterns:?} on {path}");
        }
    }

    #[test]
    fn exceptions_are_known() {
        assert!(!DockerIgnore::parse("a\nb").unwrap().has_exceptions());
        assert!(DockerIgnore::parse("a\n!a/b").unwrap().has_exceptions());
    }

    #[test]
    fn bad_pattern_names_its_line() {
        let err = DockerIgnore::parse("ok\n[z-a]").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}

#[cfg(test)]
#[path = "dockerignore_tests.rs"]
mod dockerignore_tests;
