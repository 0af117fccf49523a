//! Foreign text made inert in Markdown: a fence it cannot close, and an
//! inline value only of a safe alphabet.

/// A fenced code block that `text` cannot break out of: the fence is longer
/// than any run of backticks inside.
pub fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}", text.trim_end_matches('\n'))
}

/// A value shown inline that can only be our own safe alphabet; anything else
/// is fenced.
pub fn code(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/@=+,$".contains(c))
        && !text.is_empty()
    {
        format!("`{text}`")
    } else {
        "`(unprintable)`".to_string()
    }
}
