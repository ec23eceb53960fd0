//! Property-based fuzzing for the parsers that read untrusted text (env
//! files, vendor pages): inputs from proptest strategies, checked for "no
//! panic, errors are values". 256 cases per target in `cargo test`;
//! `PRICEWATCH_FUZZ_SECONDS=60` (scripts/fuzz.sh) runs each for that long.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Feeds `check` inputs from `strategy` until the case count or the time
/// budget is spent. A panic in `check` fails the test with the input.
pub(crate) fn run<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, check: impl Fn(&T)) {
    let budget = std::env::var("PRICEWATCH_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs);
    let started = Instant::now();
    let mut runner = TestRunner::deterministic();
    let mut cases = 0u64;
    loop {
        match budget {
            Some(budget) if started.elapsed() >= budget => break,
            None if cases >= 256 => break,
            _ => {}
        }
        let input = strategy
            .new_tree(&mut runner)
            .expect("the strategy generates")
            .current();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if outcome.is_err() {
            panic!("panicked on input {input:?}");
        }
        cases += 1;
    }
    eprintln!(
        "fuzz: {cases} inputs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// `text` with random edits: bytes replaced, inserted or cut, lines
/// duplicated or dropped, so inputs stay close to real ones.
pub(crate) fn mutations(text: String) -> impl Strategy<Value = String> {
    let edits = prop::collection::vec(
        (
            0usize..4,
            any::<prop::sample::Index>(),
            "[\\x00-\\x7f]{0,8}|\\PC{0,4}",
        ),
        1..12,
    );
    edits.prop_map(move |edits| {
        let mut chars: Vec<char> = text.chars().collect();
        for (kind, at, piece) in edits {
            let at = if chars.is_empty() {
                0
            } else {
                at.index(chars.len())
            };
            match kind {
                0 => chars.splice(at..at, piece.chars()).for_each(drop),
                1 => {
                    let end = (at + piece.len().max(1)).min(chars.len());
                    chars.drain(at..end).for_each(drop);
                }
                2 => {
                    let end = (at + piece.chars().count()).min(chars.len());
                    chars.splice(at..end, piece.chars()).for_each(drop);
                }
                _ => {
                    let line_start = chars[..at]
                        .iter()
                        .rposition(|c| *c == '\n')
                        .map_or(0, |i| i + 1);
                    let line_end = chars[at..]
                        .iter()
                        .position(|c| *c == '\n')
                        .map_or(chars.len(), |i| at + i + 1);
                    let line: Vec<char> = chars[line_start..line_end].to_vec();
                    chars.splice(line_start..line_start, line).for_each(drop);
                }
            }
        }
        chars.into_iter().collect()
    })
}
