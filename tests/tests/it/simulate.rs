//! `reclaim simulate` on generated checkouts: every checkout is accounted for, the holdout is
//! near its share, SMS-first steps text the consenting and fall back to email, and unreadable lines are reported.

use reclaim_core::rules::RecoverySettings;
use reclaim_local::simulate::{generate, run};
use std::io::Write;

#[test]
fn a_what_if_over_generated_checkouts_adds_up() {
    let dir = std::env::temp_dir().join(format!("reclaim-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("carts.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    generate(4000, 11, &mut file).unwrap();
    writeln!(file, "{{not json").unwrap();
    drop(file);
    let settings = RecoverySettings::from_json(
        r#"{"steps":[{"name":"a","delay":"1h","channels":["sms","email"]},
                     {"name":"b","delay":"1day","incentive":{"percent":10}}],
            "policies":{"holdout_percent":10,"quiet_hours":{"start":"21:00","end":"08:00"}}}"#,
    )
    .unwrap();
    let report = run(&settings, &path, false).unwrap();
    let tally = &report.tally;
    assert_eq!(tally.checkouts, 4000);
    assert_eq!(report.unreadable_lines, 1);
    assert!(report.first_error.is_some());
    assert!((300..500).contains(&tally.holdout), "holdout {}", tally.holdout);
    let ended: u64 = tally.stops.values().sum();
    assert_eq!(ended, 4000, "every timeline ends exactly once");
    // Step 1 texts the shoppers who agreed to SMS and falls back to email for the others.
    assert!(tally.sends["step0.sms"] > 0 && tally.sends["step0.email"] > 0, "{:?}", tally.sends);
    assert_eq!(tally.sends.keys().filter(|k| k.ends_with(".sms")).count(), 1, "step 2 is email only");
    assert_eq!(tally.sends["step1.email"], tally.stops["sequence_complete"]);
    assert!(tally.holds["quiet_hours"] > 0);
    assert_eq!(tally.incentives, tally.sends["step1.email"], "step 2 offers 10% within the default policy");
    std::fs::remove_dir_all(dir).unwrap();
}
