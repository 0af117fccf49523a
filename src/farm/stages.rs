//! The stages of a multi-stage Dockerfile that the built stage needs: a
//! builder stage's steps (dependency installs, compilers) are where a fresh
//! runner loses the most time, and the engine's inline cache covers only the
//! final stage. Each of them is built and pushed as a cache image of its own.

/// The named stages the target (the last stage, or `target`) needs, directly
/// or through another stage, in the Dockerfile's order.
pub fn needed_stages(dockerfile: &str, target: Option<&str>) -> Vec<String> {
    let stages = parse(dockerfile);
    let Some(last) = stages.len().checked_sub(1) else {
        return Vec::new();
    };
    let index_of = |name: &str| {
        stages.iter().position(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    let target = match target {
        Some(t) => match index_of(t) {
            Some(i) => i,
            None => return Vec::new(),
        },
        None => last,
    };
    let mut needed = vec![false; stages.len()];
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        for r in &stages[i].refs {
            if let Some(j) = index_of(r).filter(|&j| j < i && !needed[j]) {
                needed[j] = true;
                todo.push(j);
            }
        }
    }
    stages
        .into_iter()
        .zip(needed)
        .filter_map(|(s, n)| n.then_some(s.name).flatten())
        .collect()
}

struct Stage {
    name: Option<String>,
    /// What it names as a base or a source: `FROM x`, `--from=x`.
    refs: Vec<String>,
}

fn parse(dockerfile: &str) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    // Continuation lines joined, comments dropped: one instruction a line.
    let joined = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\n", " ");
    for line in joined.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(instruction) = words.first() else {
            continue;
        };
        if instruction.eq_ignore_ascii_case("FROM") {
            let args: Vec<&str> = words[1..]
                .iter()
                .copied()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let name = match args.as_slice() {
                [_, kw, name, ..] if kw.eq_ignore_ascii_case("AS") => Some(name.to_string()),
                _ => None,
            };
            stages.push(Stage {
                name,
                refs: args
                    .first()
                    .map(|b| vec![b.to_string()])
                    .unwrap_or_default(),
            });
        } else if let Some(stage) = stages.last_mut() {
            for word in &words[1..] {
                // COPY --from=x, RUN --mount=type=cache,from=x,...
                for part in word.trim_start_matches("--").split(',') {
                    if let Some(from) = part.strip_prefix("from=") {
                        stage.refs.push(from.to_string());
                    }
                }
            }
        }
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: &str = "\
FROM --platform=$BUILDPLATFORM scratch AS deps
RUN install
FROM deps AS builder
RUN --mount=type=cache,target=/c make
FROM scratch AS tests
COPY --from=builder /out /out
# FROM ignored AS comment
FROM scratch
COPY --from=builder \\
  /out /app
";

    #[test]
    fn the_stages_the_target_needs_are_found_in_order() {
        assert_eq!(needed_stages(MULTI, None), ["deps", "builder"]);
        assert_eq!(needed_stages(MULTI, Some("tests")), ["deps", "builder"]);
        assert_eq!(needed_stages(MULTI, Some("builder")), ["deps"]);
        assert!(needed_stages(MULTI, Some("deps")).is_empty());
        assert!(needed_stages("FROM scratch\nCOPY a /\n", None).is_empty());
        assert!(needed_stages("", None).is_empty());
    }
}
