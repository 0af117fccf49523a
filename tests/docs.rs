//! The documentation stays true to the project: every relative link and image
//! of README.md, CONTRIBUTING.md, bench/README.md and docs/*.md lands on a
//! file that exists (and, with a `#fragment`, on a heading of it), and each
//! subcommand's ```synopsis block in docs/ lists exactly the long flags that
//! the command's `--help` shows.

use assert_cmd::Command;
use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const COMMANDS: [&str; 9] = [
    "build", "deploy", "local", "policy", "cleanup", "prune", "history", "rollback", "verify",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn markdown(text: &str) -> Parser<'_> {
    Parser::new_ext(text, Options::ENABLE_TABLES)
}

/// README.md, CONTRIBUTING.md, bench/README.md, then docs/*.md by name.
fn pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|entry| entry.expect("docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    let mut pages: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "bench/README.md"]
        .iter()
        .map(|page| root().join(page))
        .collect();
    pages.extend(docs);
    pages
}

/// GitHub's anchor of a heading: lower case, spaces as `-`, and every other
/// character that is not a letter, a digit, `-` or `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headings, code spans read without their
/// backticks; a repeated heading gets `-1`, `-2`, … as on GitHub.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut heading: Option<String> = None;
    for event in markdown(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().expect("a heading's text"));
                let n = seen.entry(base.clone()).or_default();
                anchors.insert(if *n == 0 { base } else { format!("{base}-{n}") });
                *n += 1;
            }
            _ => {}
        }
    }
    anchors
}

/// The destination of every link and image of a page, but e-mail autolinks.
fn links(text: &str) -> Vec<String> {
    markdown(text)
        .filter_map(|event| match event {
            Event::Start(Tag::Link {
                link_type: LinkType::Email,
                ..
            }) => None,
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn relative_links_land_on_a_file_and_a_heading() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&page);
        let name = page.strip_prefix(root()).expect("under the root").display();
        for dest in links(&text) {
            if ["http://", "https://", "mailto:"]
                .iter()
                .any(|s| dest.starts_with(s))
            {
                continue;
            }
            let (path, fragment) = match dest.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (dest.as_str(), None),
            };
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().expect("a page's directory").join(path)
            };
            if !target.exists() {
                broken.push(format!("{name}: {dest}: no such file"));
            } else if let Some(fragment) = fragment
                && target.extension().is_some_and(|ext| ext == "md")
                && !anchors(&read(&target)).contains(fragment)
            {
                broken.push(format!("{name}: {dest}: no heading #{fragment} there"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The flag a token starts with: `--`, then lower-case letters, digits and
/// `-`, without what follows it (`,`, `=`, `<VALUE>`, `]`, …).
fn flag(token: &str) -> Option<String> {
    let name: String = token
        .strip_prefix("--")?
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect();
    (!name.is_empty()).then(|| format!("--{name}"))
}

/// The long flags of clap's `--help`, but `--help` and `--version`: the
/// first one of each option line (`  -f, --file <FILE>`, `      --sha <SHA>`).
/// Descriptions, which may name other commands' flags, are indented further
/// (10 spaces) and are not read.
fn help_flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let option = line.trim_start();
            if line.len() - option.len() > 6 {
                return None;
            }
            let long = match option.split_once(", ") {
                Some((short, long)) if short.len() == 2 && short.starts_with('-') => long,
                _ => option,
            };
            flag(long)
        })
        .filter(|long| long != "--help" && long != "--version")
        .collect()
}

/// Every `--flag` a synopsis names (`[--env KEY=VALUE]...`, `-f|--file`).
fn synopsis_flags(block: &str) -> BTreeSet<String> {
    block
        .match_indices("--")
        .filter(|(i, _)| !block[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '-'))
        .filter_map(|(i, _)| flag(&block[i..]))
        .collect()
}

/// The ```synopsis blocks of docs/*.md, by the word after `lambda-ship`.
fn synopses() -> HashMap<String, Vec<(PathBuf, String)>> {
    let mut synopses: HashMap<String, Vec<(PathBuf, String)>> = HashMap::new();
    for page in pages()
        .into_iter()
        .filter(|page| page.starts_with(root().join("docs")))
    {
        let text = read(&page);
        let mut block: Option<String> = None;
        for event in markdown(&text) {
            match event {
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                    if info.split_whitespace().next() == Some("synopsis") =>
                {
                    block = Some(String::new())
                }
                Event::Text(t) => {
                    if let Some(block) = block.as_mut() {
                        block.push_str(&t);
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some(block) = block.take() {
                        let command = block
                            .split_whitespace()
                            .skip_while(|word| *word != "lambda-ship")
                            .nth(1)
                            .expect("a synopsis starts with `lambda-ship COMMAND`");
                        synopses
                            .entry(command.to_string())
                            .or_default()
                            .push((page.clone(), block));
                    }
                }
                _ => {}
            }
        }
    }
    synopses
}

#[test]
fn each_synopsis_lists_exactly_the_flags_of_its_command() {
    let synopses = synopses();
    let mut wrong = Vec::new();
    for command in COMMANDS {
        let blocks = synopses.get(command).map(Vec::as_slice).unwrap_or_default();
        let [(page, block)] = blocks else {
            wrong.push(format!(
                "lambda-ship {command}: {} ```synopsis blocks in docs/, not one",
                blocks.len()
            ));
            continue;
        };
        let output = Command::cargo_bin("lambda-ship")
            .expect("the lambda-ship binary")
            .args([command, "--help"])
            .output()
            .expect("lambda-ship runs");
        assert!(
            output.status.success(),
            "lambda-ship {command} --help: {output:?}"
        );
        let help = help_flags(&String::from_utf8(output.stdout).expect("UTF-8 help"));
        let documented = synopsis_flags(block);
        let missing: Vec<_> = help.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&help).collect();
        if !missing.is_empty() || !unknown.is_empty() {
            wrong.push(format!(
                "lambda-ship {command} ({}): missing from the docs: {missing:?}; documented but not a flag: {unknown:?}",
                page.strip_prefix(root()).expect("under the root").display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "synopses out of date:\n{}",
        wrong.join("\n")
    );
}
