//! The reply classifier: what a shopper's reply to a reminder is about, as one main [`Intent`]
//! and any others, in English, German, French, Spanish, Portuguese, Italian and Dutch.
//!
//! A linear model over hashed features — the reply's words and the character n-grams (2 to 4) of
//! each word with its edges — trained by softmax regression ([`train`]) on the project's own
//! labelled replies (`data/replies/*.jsonl`, by `reclaim train-classifier`), quantised to one byte
//! per weight and embedded in the binary ([`Classifier::embedded`]). Character n-grams carry it
//! across typos, inflections, missing accents and SMS shorthand; hashing keeps the model a fixed
//! size whatever the vocabulary. Deterministic: the same text always gets the same answer, and the
//! same data always trains the same model.
//!
//! `opt_out` is held to a lower bar than the rest ([`Model::opt_out_threshold`], set at training
//! so that every training opt-out is caught): a shopper who asks to stop, however they put it,
//! must not get another message.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use xxhash_rust::xxh3::xxh3_64;

/// What a reply is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    ShippingCost,
    DeliveryTime,
    SizeFit,
    Returns,
    Price,
    Payment,
    Trust,
    ProductQuestion,
    CheckoutProblem,
    NotReady,
    AlreadyBought,
    OptOut,
    Human,
    Positive,
    Other,
}

impl Intent {
    /// Every intent, in the model's order.
    pub const ALL: [Intent; 15] = [
        Intent::ShippingCost,
        Intent::DeliveryTime,
        Intent::SizeFit,
        Intent::Returns,
        Intent::Price,
        Intent::Payment,
        Intent::Trust,
        Intent::ProductQuestion,
        Intent::CheckoutProblem,
        Intent::NotReady,
        Intent::AlreadyBought,
        Intent::OptOut,
        Intent::Human,
        Intent::Positive,
        Intent::Other,
    ];

    fn index(self) -> usize {
        Intent::ALL.iter().position(|intent| *intent == self).expect("listed")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::ShippingCost => "shipping_cost",
            Intent::DeliveryTime => "delivery_time",
            Intent::SizeFit => "size_fit",
            Intent::Returns => "returns",
            Intent::Price => "price",
            Intent::Payment => "payment",
            Intent::Trust => "trust",
            Intent::ProductQuestion => "product_question",
            Intent::CheckoutProblem => "checkout_problem",
            Intent::NotReady => "not_ready",
            Intent::AlreadyBought => "already_bought",
            Intent::OptOut => "opt_out",
            Intent::Human => "human",
            Intent::Positive => "positive",
            Intent::Other => "other",
        }
    }
}

const CLASSES: usize = Intent::ALL.len();

/// A classified reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub intent: Intent,
    /// The model's probability for the main intent (0 to 1).
    pub confidence: f32,
    /// Other intents the reply also carries, most likely first.
    pub also: Vec<Intent>,
}

/// How likely another intent must be to count as also present.
const ALSO_AT: f32 = 0.2;
/// The longest text read (a reply longer than this is a letter; its start says what it is about).
const MAX_CHARS: usize = 2_000;

/// The text the features are taken from: lower case, the quoted history of an email reply left
/// out (lines starting with `>`, and everything after a line that introduces the quote), digits as
/// `0`, anything that is not a letter, a digit or a symbol (emoji) as a space.
fn normalise(text: &str) -> String {
    let mut kept = String::with_capacity(text.len().min(MAX_CHARS));
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('>') {
            continue;
        }
        let lower = trimmed.to_lowercase();
        if introduces_quote(&lower) {
            break;
        }
        kept.push_str(&lower);
        kept.push(' ');
    }
    kept.chars()
        .take(MAX_CHARS)
        .map(|c| match c {
            c if c.is_ascii_digit() => '0',
            c if c.is_alphanumeric() => c,
            '\'' | '’' | '€' | '$' | '£' | '%' | '?' | '!' => c,
            c if !c.is_ascii() && !c.is_whitespace() && !c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect()
}

/// A line that introduces a quoted reminder ("On Mon, 3 Jun 2026, Shop wrote:", "Am … schrieb",
/// "Le … a écrit", "El … escribió", "Em … escreveu", "Il … ha scritto", "Op … schreef").
fn introduces_quote(line: &str) -> bool {
    let line = line.trim_end();
    ["wrote:", "schrieb:", "écrit :", "écrit:", "escribió:", "escreveu:", "scritto:", "schreef:"]
        .iter()
        .any(|end| line.ends_with(end))
        || line.starts_with("-----original message")
        || line.starts_with("-----ursprüngliche nachricht")
}

/// The reply's features: bucket indices, one per word and per character n-gram of each word.
fn features(text: &str, buckets: u32) -> Vec<u32> {
    let normalised = normalise(text);
    let mut features = Vec::new();
    let mut bucket = |kind: u8, piece: &str| {
        let mut bytes = Vec::with_capacity(piece.len() + 1);
        bytes.push(kind);
        bytes.extend_from_slice(piece.as_bytes());
        features.push((xxh3_64(&bytes) % u64::from(buckets)) as u32);
    };
    let words: Vec<&str> = normalised.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        bucket(b'w', word);
        if let Some(next) = words.get(i + 1) {
            bucket(b'b', &format!("{word} {next}"));
        }
        let padded: Vec<char> = std::iter::once('^').chain(word.chars()).chain(std::iter::once('$')).collect();
        for n in 2..=4 {
            for gram in padded.windows(n) {
                bucket(b'0' + n as u8, &gram.iter().collect::<String>());
            }
        }
    }
    features
}

/// A trained model: one weight per feature bucket and intent (quantised to a byte), a bias per
/// intent, and the bar for `opt_out`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    buckets: u32,
    scale: f32,
    bias: [f32; CLASSES],
    /// `buckets × CLASSES` weights, each `scale × w`.
    weights: Vec<i8>,
    /// `opt_out` wins whenever its probability reaches this, whatever else is likelier.
    pub opt_out_threshold: f32,
}

const MAGIC: &[u8; 8] = b"RCLF\x00\x00\x00\x01";

impl Model {
    /// The probabilities of each intent for `text`.
    pub fn probabilities(&self, text: &str) -> [f32; CLASSES] {
        let features = features(text, self.buckets);
        let mut scores = self.bias;
        if !features.is_empty() {
            let weight = self.scale / (features.len() as f32).sqrt();
            for feature in features {
                let row = &self.weights[feature as usize * CLASSES..][..CLASSES];
                for (score, w) in scores.iter_mut().zip(row) {
                    *score += weight * f32::from(*w);
                }
            }
        }
        softmax(scores)
    }

    /// The main intent, its confidence and the others present.
    pub fn classify(&self, text: &str) -> Classification {
        let probabilities = self.probabilities(text);
        let opt_out = Intent::OptOut.index();
        let (best, confidence) = if probabilities[opt_out] >= self.opt_out_threshold {
            (opt_out, probabilities[opt_out])
        } else {
            probabilities.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).expect("intents")
        };
        let mut also: Vec<(usize, f32)> =
            probabilities.iter().copied().enumerate().filter(|(i, p)| *i != best && *p >= ALSO_AT).collect();
        also.sort_by(|a, b| b.1.total_cmp(&a.1));
        Classification {
            intent: Intent::ALL[best],
            confidence,
            also: also.into_iter().map(|(i, _)| Intent::ALL[i]).collect(),
        }
    }

    /// The model as bytes (what `reclaim train-classifier` writes and the binary embeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&self.buckets.to_le_bytes());
        bytes.extend_from_slice(&self.scale.to_le_bytes());
        bytes.extend_from_slice(&self.opt_out_threshold.to_le_bytes());
        for bias in self.bias {
            bytes.extend_from_slice(&bias.to_le_bytes());
        }
        bytes.extend(self.weights.iter().map(|w| *w as u8));
        bytes
    }

    /// Reads a model written by [`Model::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Model> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let word = |at: usize| rest.get(at..at + 4).map(|b| [b[0], b[1], b[2], b[3]]);
        let buckets = u32::from_le_bytes(word(0)?);
        let scale = f32::from_le_bytes(word(4)?);
        let opt_out_threshold = f32::from_le_bytes(word(8)?);
        let mut bias = [0.0; CLASSES];
        for (i, b) in bias.iter_mut().enumerate() {
            *b = f32::from_le_bytes(word(12 + 4 * i)?);
        }
        let weights: Vec<i8> = rest.get(12 + 4 * CLASSES..)?.iter().map(|b| *b as i8).collect();
        (weights.len() == buckets as usize * CLASSES).then_some(Model {
            buckets,
            scale,
            bias,
            weights,
            opt_out_threshold,
        })
    }

    /// The model's size in bytes.
    pub fn size(&self) -> usize {
        self.to_bytes().len()
    }
}

fn softmax(scores: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let mut exp = scores.map(|s| (s - max).exp());
    let sum: f32 = exp.iter().sum();
    exp.iter_mut().for_each(|e| *e /= sum);
    exp
}

/// The model this build embeds (`model/intents.bin`, written by `reclaim train-classifier`).
pub fn embedded() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::from_bytes(include_bytes!("model/intents.bin")).expect("the embedded model reads"))
}

/// Classifies `text` with the embedded model.
pub fn classify(text: &str) -> Classification {
    embedded().classify(text)
}

/// One labelled reply (a line of `data/replies/*.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub text: String,
    pub intent: Intent,
    #[serde(default)]
    pub also: Vec<Intent>,
    pub language: String,
    #[serde(default)]
    pub channel: Option<String>,
}

impl Example {
    /// Whether the example is held out of training (a fifth of the data, chosen by a hash of the
    /// text, so the split never changes when rows are added elsewhere).
    pub fn held_out(&self) -> bool {
        xxh3_64(self.text.as_bytes()) % 5 == 0
    }
}

/// How a model is trained.
#[derive(Debug, Clone)]
pub struct Training {
    pub buckets: u32,
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
}

impl Default for Training {
    fn default() -> Self {
        Self { buckets: 1 << 14, epochs: 30, learning_rate: 0.4, l2: 1e-6, seed: 7 }
    }
}

/// Trains a model on `examples` (softmax regression by stochastic gradient descent, the order
/// shuffled by `seed`; an example's other intents count a third as much as its main one), then
/// quantises it and sets the `opt_out` bar just under the least likely opt-out it was trained on.
pub fn train(examples: &[Example], training: &Training) -> Model {
    let buckets = training.buckets;
    let encoded: Vec<(Vec<u32>, [f32; CLASSES])> = examples
        .iter()
        .map(|example| {
            let mut target = [0.0; CLASSES];
            let secondary = if example.also.is_empty() { 0.0 } else { 0.25 / example.also.len() as f32 };
            target[example.intent.index()] = 1.0 - if example.also.is_empty() { 0.0 } else { 0.25 };
            for other in &example.also {
                target[other.index()] += secondary;
            }
            (features(&example.text, buckets), target)
        })
        .collect();
    let mut weights = vec![0.0_f32; buckets as usize * CLASSES];
    let mut bias = [0.0_f32; CLASSES];
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    let mut rng = fastrand::Rng::with_seed(training.seed);
    for epoch in 0..training.epochs {
        rng.shuffle(&mut order);
        let rate = training.learning_rate / (1.0 + epoch as f32 * 0.1);
        for &i in &order {
            let (features, target) = &encoded[i];
            let value = if features.is_empty() { 0.0 } else { 1.0 / (features.len() as f32).sqrt() };
            let mut scores = bias;
            for &feature in features {
                let row = &weights[feature as usize * CLASSES..][..CLASSES];
                for (score, w) in scores.iter_mut().zip(row) {
                    *score += value * w;
                }
            }
            let probabilities = softmax(scores);
            let gradient: [f32; CLASSES] = std::array::from_fn(|c| probabilities[c] - target[c]);
            for c in 0..CLASSES {
                bias[c] -= rate * gradient[c];
            }
            for &feature in features {
                let row = &mut weights[feature as usize * CLASSES..][..CLASSES];
                for (w, g) in row.iter_mut().zip(gradient) {
                    *w -= rate * (g * value + training.l2 * *w);
                }
            }
        }
    }
    let largest = weights.iter().fold(0.0_f32, |m, w| m.max(w.abs())).max(f32::EPSILON);
    let scale = largest / 127.0;
    let quantised = weights.iter().map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8).collect();
    let mut model = Model { buckets, scale, bias, weights: quantised, opt_out_threshold: 1.0 };
    let least_likely_opt_out = examples
        .iter()
        .filter(|example| example.intent == Intent::OptOut)
        .map(|example| model.probabilities(&example.text)[Intent::OptOut.index()])
        .fold(1.0_f32, f32::min);
    model.opt_out_threshold = (least_likely_opt_out * 0.9).clamp(0.05, 0.5);
    model
}

/// Accuracy on labelled examples: overall, per intent (recall) and per language.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluation {
    pub examples: usize,
    pub correct: usize,
    /// Intent → (examples, correct).
    pub by_intent: std::collections::BTreeMap<&'static str, (usize, usize)>,
    /// Language → (examples, correct).
    pub by_language: std::collections::BTreeMap<String, (usize, usize)>,
}

impl Evaluation {
    pub fn accuracy(&self) -> f64 {
        if self.examples == 0 { 0.0 } else { self.correct as f64 / self.examples as f64 }
    }

    /// The share of `intent`'s examples classified as it.
    pub fn recall(&self, intent: Intent) -> f64 {
        self.by_intent.get(intent.as_str()).map_or(0.0, |(n, ok)| if *n == 0 { 0.0 } else { *ok as f64 / *n as f64 })
    }
}

/// How `model` does on `examples`: a reply counts as right when its main intent is the label's.
pub fn evaluate<'a>(model: &Model, examples: impl IntoIterator<Item = &'a Example>) -> Evaluation {
    let mut evaluation = Evaluation::default();
    for example in examples {
        let right = model.classify(&example.text).intent == example.intent;
        evaluation.examples += 1;
        evaluation.correct += usize::from(right);
        let intent = evaluation.by_intent.entry(example.intent.as_str()).or_default();
        intent.0 += 1;
        intent.1 += usize::from(right);
        let language = evaluation.by_language.entry(example.language.clone()).or_default();
        language.0 += 1;
        language.1 += usize::from(right);
    }
    evaluation
}

/// Reads labelled replies from JSON lines; names the line of the first that does not read.
pub fn read_examples(jsonl: &str) -> Result<Vec<Example>, String> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(text: &str, intent: Intent) -> Example {
        Example { text: text.into(), intent, also: Vec::new(), language: "en".into(), channel: None }
    }

    #[test]
    fn quoted_history_and_signatures_are_not_read_as_the_reply() {
        let reply = "Too expensive for me\n\nOn Mon, 3 Jun 2026, Shop <hello@shop.example> wrote:\n> Your cart is waiting\n> Free shipping";
        let normalised = normalise(reply);
        assert!(normalised.contains("too expensive") && !normalised.contains("shipping"), "{normalised}");
        assert_eq!(normalise("> quoted only\nStop it"), "stop it ");
        assert_eq!(normalise("Size 42?"), "size 00? ");
    }

    #[test]
    fn a_model_round_trips_through_its_bytes_and_refuses_other_bytes() {
        let examples = [example("too expensive", Intent::Price), example("stop texting me", Intent::OptOut)];
        let model = train(&examples, &Training { buckets: 64, epochs: 5, ..Training::default() });
        assert_eq!(Model::from_bytes(&model.to_bytes()), Some(model.clone()));
        assert_eq!(Model::from_bytes(b"nope"), None);
        let mut truncated = model.to_bytes();
        truncated.pop();
        assert_eq!(Model::from_bytes(&truncated), None);
    }

    #[test]
    fn training_is_deterministic_and_learns_a_separable_toy_set() {
        let examples: Vec<Example> = [
            ("shipping is too expensive", Intent::ShippingCost),
            ("the delivery fee is crazy", Intent::ShippingCost),
            ("please stop messaging me", Intent::OptOut),
            ("unsubscribe me now", Intent::OptOut),
            ("which size should I take", Intent::SizeFit),
            ("does it run small, what size", Intent::SizeFit),
        ]
        .iter()
        .map(|(text, intent)| example(text, *intent))
        .collect();
        let training = Training { buckets: 1024, ..Training::default() };
        let model = train(&examples, &training);
        assert_eq!(model, train(&examples, &training), "same data, same model");
        assert_eq!(evaluate(&model, &examples).accuracy(), 1.0);
        for opt_out in examples.iter().filter(|e| e.intent == Intent::OptOut) {
            assert_eq!(model.classify(&opt_out.text).intent, Intent::OptOut);
        }
    }

    /// The project's labelled replies (`data/replies/*.jsonl`).
    fn labelled_replies() -> Vec<Example> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/replies");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
        files.sort();
        files
            .iter()
            .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
            .flat_map(|path| read_examples(&std::fs::read_to_string(path).unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn the_embedded_model_is_what_the_data_trains_and_holds_its_level_on_replies_it_never_saw() {
        let examples = labelled_replies();
        assert!(examples.len() >= 2_000, "{} labelled replies", examples.len());
        let languages: std::collections::BTreeSet<&str> = examples.iter().map(|e| e.language.as_str()).collect();
        assert_eq!(languages.into_iter().collect::<Vec<_>>(), ["de", "en", "es", "fr", "it", "nl", "pt"]);
        let training: Vec<Example> = examples.iter().filter(|e| !e.held_out()).cloned().collect();
        let trained = train(&training, &Training::default());
        assert!(trained == *embedded(), "the embedded model is stale: run `reclaim train-classifier`");
        let evaluation = evaluate(embedded(), examples.iter().filter(|e| e.held_out()));
        assert!(evaluation.examples >= 350, "{} held out", evaluation.examples);
        // Floors at what this model measures (62.6% and 80.6% on 481 held-out replies), so that a
        // change that makes it worse fails here. The budget (85% overall, 99% opt_out recall) is
        // not met yet; `make bench` prints both beside it.
        assert!(evaluation.accuracy() >= 0.60, "accuracy {:.3}: {evaluation:?}", evaluation.accuracy());
        assert!(evaluation.recall(Intent::OptOut) >= 0.78, "opt_out recall {:.3}", evaluation.recall(Intent::OptOut));
        assert!(embedded().size() <= 512 * 1024, "small enough to embed: {} bytes", embedded().size());
    }

    #[test]
    fn intents_read_and_write_as_their_ids() {
        for intent in Intent::ALL {
            let json = serde_json::to_string(&intent).unwrap();
            assert_eq!(json, format!("\"{}\"", intent.as_str()));
            assert_eq!(serde_json::from_str::<Intent>(&json).unwrap(), intent);
        }
        assert!(
            read_examples("{\"text\": \"x\", \"intent\": \"nope\", \"language\": \"en\"}")
                .unwrap_err()
                .starts_with("line 1")
        );
    }
}
