//! `make demo`'s scenario, run in-process on a manual clock (the steps an hour, a day and three
//! days apart, as merchants set them): every behaviour of the demo store ends as it should.
//! `make demo` runs the same script in real time.

use reclaim_local::demo::{Behaviour, DemoOptions, DemoTime, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_store_recovers_what_it_should_and_nothing_more() {
    // Warnings (a check the pump had to retry) show in the test's output.
    reclaim_aws::init_tracing_with_default("warn");
    let outbox = std::env::temp_dir().join(format!("reclaim-demo-test-{}", std::process::id()));
    let options = DemoOptions {
        step_delay: std::time::Duration::from_secs(3600),
        outbox: outbox.clone(),
        time: DemoTime::Manual,
    };
    let report = run(&options).await.unwrap();
    assert!(report.shoppers.len() >= 20);
    for shopper in &report.shoppers {
        let expected_emails = match shopper.behaviour {
            Behaviour::BuysAtOnce | Behaviour::NoEmail => 0,
            Behaviour::ClicksAndBuys | Behaviour::Unsubscribes => 1,
            Behaviour::Abandons | Behaviour::DuplicateWebhooks | Behaviour::OutOfOrder | Behaviour::BrowsesAgain => 3,
        };
        assert_eq!(shopper.emails, expected_emails, "{} ({:?})", shopper.name, shopper.behaviour);
        assert_eq!(shopper.recovered, shopper.behaviour == Behaviour::ClicksAndBuys, "{}", shopper.name);
        assert_eq!(shopper.clicked, shopper.behaviour == Behaviour::ClicksAndBuys, "{}", shopper.name);
    }
    let sent: i64 = ["sent.step0.email", "sent.step1.email", "sent.step2.email"]
        .iter()
        .map(|k| report.stats.get(*k).copied().unwrap_or(0))
        .sum();
    assert_eq!(sent as usize, report.outbox_files.len());
    assert!(report.outbox_files.iter().all(|f| std::fs::read_to_string(f).unwrap().contains("<html")));
    let _ = std::fs::remove_dir_all(outbox);
}
