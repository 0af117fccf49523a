//! What lambda-ship writes on a function so that its releases can be told
//! apart and taken back without its own state: each published version's
//! description (`lambda-ship <commit> <digest> <run url>`), the versions an
//! alias served before (its description, `lambda-ship served: 7 5 3`), and
//! the versions that were rolled back (a function tag).

/// Lambda's limit of a description, and of a tag's value.
pub const DESCRIPTION_LIMIT: usize = 256;

/// The tag of a function that lists its rolled-back versions.
pub const ROLLED_BACK_TAG: &str = "lambda-ship:rolled-back";

/// The tag of a function deployed on `$LATEST`: the image it ran before.
pub const PREVIOUS_IMAGE_TAG: &str = "lambda-ship:previous-image";

const VERSION_PREFIX: &str = "lambda-ship ";
const ALIAS_PREFIX: &str = "lambda-ship served:";

/// Where a published version came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionNote {
    pub commit: String,
    /// `sha256:…`, the image the version runs.
    pub digest: String,
    /// The CI run that published it.
    pub run_url: Option<String>,
}

impl VersionNote {
    /// The version's description, within Lambda's 256 characters: a run URL
    /// that would not fit is left out rather than cut.
    pub fn to_description(&self) -> String {
        let base = format!("{VERSION_PREFIX}{} {}", self.commit, self.digest);
        match &self.run_url {
            Some(url) if base.len() + 1 + url.len() <= DESCRIPTION_LIMIT => {
                format!("{base} {url}")
            }
            _ => base,
        }
    }

    /// A version's note, when lambda-ship published it.
    pub fn parse(description: &str) -> Option<Self> {
        let mut words = description.strip_prefix(VERSION_PREFIX)?.split(' ');
        let commit = words.next()?;
        let digest = words.next()?;
        let ok = commit.len() >= 7
            && commit.bytes().all(|b| b.is_ascii_hexdigit())
            && digest.starts_with("sha256:");
        ok.then(|| VersionNote {
            commit: commit.to_string(),
            digest: digest.to_string(),
            run_url: words.next().map(str::to_string),
        })
    }
}

/// What a rollback goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The release the alias served before its current one.
    Previous,
    /// The newest version published from this commit (or a prefix of it).
    Commit(String),
    Version(String),
}

/// The versions an alias served before its current one, the latest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Served(pub Vec<String>);

impl Served {
    /// From an alias's description; anything not of lambda-ship is no history.
    pub fn parse(description: &str) -> Self {
        Served(
            description
                .strip_prefix(ALIAS_PREFIX)
                .map(|rest| {
                    rest.split_whitespace()
                        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The history once the alias moves away from `current`.
    pub fn moved_from(&self, current: &str) -> Self {
        let mut served = vec![current.to_string()];
        served.extend(self.0.iter().filter(|v| *v != current).cloned());
        Served(served)
    }

    /// The history once the alias goes back to `target`: what it served
    /// before `target`, or the same history without `target` when it is
    /// not in it.
    pub fn back_to(&self, target: &str) -> Self {
        match self.0.iter().position(|v| v == target) {
            Some(i) => Served(self.0[i + 1..].to_vec()),
            None => Served(self.0.clone()),
        }
    }

    /// The alias description: the newest versions that fit in 256 characters.
    pub fn to_description(&self) -> String {
        let mut out = ALIAS_PREFIX.to_string();
        for v in &self.0 {
            if out.len() + 1 + v.len() > DESCRIPTION_LIMIT {
                break;
            }
            out.push(' ');
            out.push_str(v);
        }
        out
    }
}

/// The rolled-back versions of a function, from its tag.
pub fn rolled_back(tag: Option<&str>) -> Vec<String> {
    tag.unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The tag once `version` is rolled back too: the newest that fit.
pub fn with_rolled_back(tag: Option<&str>, version: &str) -> String {
    let mut versions = rolled_back(tag);
    versions.retain(|v| v != version);
    versions.push(version.to_string());
    while versions.iter().map(|v| v.len() + 1).sum::<usize>() > DESCRIPTION_LIMIT {
        versions.remove(0);
    }
    versions.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn a_version_note_says_commit_digest_and_run_within_256_characters() {
        let note = VersionNote {
            commit: SHA.into(),
            digest: DIGEST.into(),
            run_url: Some("https://github.com/o/r/actions/runs/42".into()),
        };
        let text = note.to_description();
        assert!(text.len() <= DESCRIPTION_LIMIT);
        assert_eq!(VersionNote::parse(&text), Some(note.clone()));
        let long = VersionNote {
            run_url: Some(format!("https://ci.example/{}", "x".repeat(300))),
            ..note
        };
        let text = long.to_description();
        assert!(text.len() <= DESCRIPTION_LIMIT);
        assert_eq!(VersionNote::parse(&text).unwrap().run_url, None);
        assert_eq!(VersionNote::parse("a version of someone else"), None);
    }

    #[test]
    fn an_alias_remembers_what_it_served_and_goes_back_through_it() {
        let served = Served::parse("lambda-ship served: 5 3").moved_from("7");
        assert_eq!(served.to_description(), "lambda-ship served: 7 5 3");
        assert_eq!(served.back_to("7"), Served(vec!["5".into(), "3".into()]));
        assert_eq!(served.back_to("3"), Served(vec![]));
        assert_eq!(Served::parse("hand-written"), Served::default());
        let many = Served((1..200).rev().map(|v| v.to_string()).collect());
        let text = many.to_description();
        assert!(text.len() <= DESCRIPTION_LIMIT && text.ends_with(char::is_numeric));
        assert!(text.starts_with("lambda-ship served: 199 198"));
    }

    #[test]
    fn the_rolled_back_tag_keeps_the_newest_that_fit() {
        assert_eq!(with_rolled_back(None, "4"), "4");
        assert_eq!(with_rolled_back(Some("4 6"), "4"), "6 4");
        let mut tag = String::new();
        for v in 1..200 {
            tag = with_rolled_back(Some(&tag), &v.to_string());
        }
        assert!(tag.len() <= DESCRIPTION_LIMIT && tag.ends_with(" 199"));
        assert_eq!(rolled_back(Some("3 9")), ["3", "9"]);
    }
}
