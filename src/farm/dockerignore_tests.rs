//! `.dockerignore` cases beyond moby's table: exceptions, re-exclusions,
//! parents, and the lines that mean nothing.

use super::*;

fn ignore(patterns: &str) -> DockerIgnore {
    DockerIgnore::parse(patterns).unwrap()
}

#[test]
fn a_later_pattern_excludes_again_what_an_exception_let_in() {
    let i = ignore("*.md\n!README*\nREADME.secret.md");
    assert!(!i.excludes("README.md"));
    assert!(i.excludes("README.secret.md"));
    assert!(i.excludes("CHANGES.md"));
}

#[test]
fn an_exception_below_an_excluded_folder_lets_in_only_what_it_names() {
    let i = ignore("build\n!build/keep/**");
    assert!(!i.excludes("build/keep/a"));
    assert!(!i.excludes("build/keep/deep/b"));
    assert!(i.excludes("build/other"));
    assert!(
        i.excludes("build/keep"),
        "`keep/**` names what is below keep, not keep itself (as moby)"
    );
    assert!(i.has_exceptions());
}

#[test]
fn a_pattern_matches_from_the_root_unless_it_starts_with_double_star() {
    let rooted = ignore("node_modules");
    assert!(rooted.excludes("node_modules/x/y.js"));
    assert!(!rooted.excludes("app/node_modules/y.js"));
    let anywhere = ignore("**/node_modules");
    assert!(anywhere.excludes("node_modules/y.js"));
    assert!(anywhere.excludes("app/lib/node_modules/y.js"));
    assert!(!anywhere.excludes("app/node_modules_old/y.js"));
}

#[test]
fn a_star_stops_at_a_slash_but_a_matching_parent_takes_all_below_it() {
    let i = ignore("a*\ntemp?");
    assert!(i.excludes("abc"));
    assert!(i.excludes("ab/c/d"), "the parent `ab` matches `a*`");
    assert!(!i.excludes("x/ab"), "anchored at the root");
    assert!(!i.excludes("temp/x"), "temp? needs one more character");
    assert!(i.excludes("temp1/x"));
    assert!(!ignore("a?b").excludes("a/b"), "? is never a slash");
}

#[test]
fn lines_that_name_nothing_exclude_nothing() {
    let i = ignore("# all\n\n   \n.\n/\n!\n!.\n./");
    assert!(!i.excludes("anything"));
    assert!(!i.excludes("a/b"));
    assert!(!i.has_exceptions(), "`!` alone and `!.` except nothing");
}

#[test]
fn an_exception_with_spaces_and_a_path_with_dots_are_cleaned() {
    let i = ignore("*.txt\n  !  keep.txt  ");
    assert!(!i.excludes("keep.txt"));
    assert!(i.excludes("drop.txt"));
    assert!(i.excludes("./drop.txt"), "the path is cleaned too");
    assert!(!i.excludes("sub/../keep.txt"));
}
