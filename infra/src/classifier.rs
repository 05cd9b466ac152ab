//! `reclaim train-classifier`, `reclaim classify` and `reclaim evaluate-classifier`: the reply
//! classifier's files. Training reads the labelled replies (`data/replies/*.jsonl`), keeps the
//! held-out fifth apart, trains and writes the model the core embeds; evaluation reports accuracy
//! per intent and per language on that held-out fifth, the model's size and replies per second.

use anyhow::Context;
use reclaim_core::conversation::classifier::{self, Evaluation, Example, Intent, Model, Training};
use std::io::{BufRead, Write};
use std::path::Path;

/// What DESIGN.md asks of the classifier on replies it never saw.
pub const ACCURACY_BUDGET: f64 = 0.85;
pub const OPT_OUT_RECALL_BUDGET: f64 = 0.99;

/// Every labelled reply under `dir` (`*.jsonl`, in name order).
pub fn read_data(dir: &Path) -> anyhow::Result<Vec<Example>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut examples = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        examples.extend(classifier::read_examples(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?);
    }
    anyhow::ensure!(!examples.is_empty(), "no labelled replies in {}", dir.display());
    Ok(examples)
}

/// Trains on the data's training part and writes the model to `out`.
pub fn train(data: &Path, out: &Path) -> anyhow::Result<()> {
    let examples = read_data(data)?;
    let training: Vec<Example> = examples.iter().filter(|e| !e.held_out()).cloned().collect();
    let model = classifier::train(&training, &Training::default());
    std::fs::write(out, model.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "trained on {} replies ({} held out), {} KB written to {}",
        training.len(),
        examples.len() - training.len(),
        model.size() / 1024,
        out.display()
    );
    report(&model, &examples);
    Ok(())
}

/// Tries training settings on the training part only: each is trained on four fifths of it and
/// scored on the fifth it did not see (the held-out replies stay unseen).
pub fn sweep(data: &Path) -> anyhow::Result<()> {
    let examples = read_data(data)?;
    let training: Vec<Example> = examples.iter().filter(|e| !e.held_out()).cloned().collect();
    let fold = |e: &Example| xxhash_rust::xxh3::xxh3_64(format!("fold{}", e.text).as_bytes()) % 5 == 0;
    let fit: Vec<Example> = training.iter().filter(|e| !fold(e)).cloned().collect();
    let check: Vec<&Example> = training.iter().filter(|e| fold(e)).collect();
    for (epochs, learning_rate, l2) in
        [(10, 0.4, 1e-6), (30, 0.4, 1e-6), (30, 1.0, 1e-6), (30, 0.4, 1e-4), (60, 1.0, 1e-5), (30, 2.0, 1e-6)]
    {
        let settings = Training { epochs, learning_rate, l2, ..Training::default() };
        let model = classifier::train(&fit, &settings);
        let on_fit = classifier::evaluate(&model, fit.iter());
        let on_check = classifier::evaluate(&model, check.iter().copied());
        println!(
            "epochs {epochs:>3} rate {learning_rate:<4} l2 {l2:<7}: fit {:.1}%, unseen {:.1}%, opt_out recall {:.1}%",
            100.0 * on_fit.accuracy(),
            100.0 * on_check.accuracy(),
            100.0 * on_check.recall(Intent::OptOut)
        );
    }
    Ok(())
}

/// Prints the embedded model's figures on the held-out replies beside the budgets.
pub fn evaluate(data: &Path) -> anyhow::Result<()> {
    let examples = read_data(data)?;
    let evaluation = report(classifier::embedded(), &examples);
    let verdict = |met: bool| if met { "meets" } else { "MISSES" };
    println!(
        "  accuracy {} the {:.0}% budget; opt_out recall {} the {:.0}% budget",
        verdict(evaluation.accuracy() >= ACCURACY_BUDGET),
        100.0 * ACCURACY_BUDGET,
        verdict(evaluation.recall(Intent::OptOut) >= OPT_OUT_RECALL_BUDGET),
        100.0 * OPT_OUT_RECALL_BUDGET
    );
    Ok(())
}

fn report(model: &Model, examples: &[Example]) -> Evaluation {
    let held_out: Vec<&Example> = examples.iter().filter(|e| e.held_out()).collect();
    let evaluation = classifier::evaluate(model, held_out.iter().copied());
    let percent = |(n, ok): (usize, usize)| if n == 0 { 0.0 } else { 100.0 * ok as f64 / n as f64 };
    println!(
        "held-out replies: {} of {}; accuracy {:.1}% (budget {:.0}%), opt_out recall {:.1}% (budget {:.0}%)",
        evaluation.examples,
        examples.len(),
        100.0 * evaluation.accuracy(),
        100.0 * ACCURACY_BUDGET,
        100.0 * evaluation.recall(Intent::OptOut),
        100.0 * OPT_OUT_RECALL_BUDGET
    );
    println!(
        "  by language: {}",
        evaluation
            .by_language
            .iter()
            .map(|(l, r)| format!("{l} {:.0}% ({})", percent(*r), r.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (intent, figures) in &evaluation.by_intent {
        println!("  {intent:<17} {:>5.1}% of {}", percent(*figures), figures.0);
    }
    let started = std::time::Instant::now();
    let mut classified = 0usize;
    while started.elapsed().as_secs_f64() < 1.0 {
        for example in &held_out {
            std::hint::black_box(model.classify(&example.text));
            classified += 1;
        }
    }
    println!(
        "  model {} KB; {:.0} replies/s on one core",
        model.size() / 1024,
        classified as f64 / started.elapsed().as_secs_f64()
    );
    evaluation
}

/// Reads `{"text": "..."}` per line on `input`, writes `{"intent", "confidence", "also"}` per line.
pub fn classify(input: impl BufRead, mut output: impl Write) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
    }
    for (number, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let Line { text } = serde_json::from_str(&line)
            .with_context(|| format!("line {}: expected {{\"text\": \"...\"}}", number + 1))?;
        serde_json::to_writer(&mut output, &classifier::classify(&text))?;
        output.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_reads_json_lines_and_writes_one_answer_per_line() {
        let input = "{\"text\": \"please stop texting me\"}\n\n{\"text\": \"what size should I take, I am 180 cm\"}\n";
        let mut output = Vec::new();
        classify(input.as_bytes(), &mut output).unwrap();
        let answers: Vec<serde_json::Value> =
            String::from_utf8(output).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(answers.len(), 2, "one per non-empty line");
        for answer in &answers {
            assert!(answer["intent"].is_string() && answer["confidence"].is_number() && answer["also"].is_array());
        }
        assert_eq!(answers[0]["intent"], "opt_out");
        let error = classify("{\"txt\": 1}\n".as_bytes(), Vec::new()).unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
