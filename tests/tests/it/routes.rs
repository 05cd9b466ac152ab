//! The route tables of the HTTP functions against `template.yaml`: the local gateway serves
//! exactly the tables, so a route missing from the template would pass every local test and be a
//! 404 in production. This test fails on any difference, in either direction.

use reclaim_core::web::Route;
use reclaim_tests::routes::{RouteDifference, differences, template_routes};

/// Each HTTP function's logical id in `template.yaml` and its route table.
fn tables() -> Vec<(&'static str, &'static [Route])> {
    vec![
        ("WebhooksFunction", reclaim_webhooks::ROUTES),
        ("LinksFunction", reclaim_links::ROUTES),
        ("AdminApiFunction", reclaim_admin_api::ROUTES),
        ("AuthFunction", reclaim_auth::ROUTES),
        ("StorefrontApiFunction", reclaim_storefront_api::ROUTES),
    ]
}

fn template() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).expect("template.yaml")
}

#[test]
fn every_function_serves_exactly_the_routes_the_template_gives_it() {
    let declared = template_routes(&template()).expect("the template parses");
    assert_eq!(differences(&tables(), &declared), vec![], "route tables and template.yaml differ");
}

#[test]
fn a_table_that_drifts_from_the_template_is_caught() {
    let declared = template_routes(&template()).unwrap();
    const MISSING_ONE: &[Route] = &[reclaim_links::RESTORE, reclaim_links::SHORT_LINK, reclaim_links::UNSUBSCRIBE];
    const WITH_EXTRA: &[Route] = &[reclaim_webhooks::DELIVERY, Route::new("GET", "/webhooks/{platform}")];
    let mut doctored = tables();
    doctored[0].1 = WITH_EXTRA;
    doctored[1].1 = MISSING_ONE;
    let found = differences(&doctored, &declared);
    assert_eq!(
        found,
        vec![
            RouteDifference::NotInTemplate {
                function: "WebhooksFunction".into(),
                route: "GET /webhooks/{platform}".into()
            },
            RouteDifference::NotServed { function: "LinksFunction".into(), route: "GET /u/{token}".into() },
            RouteDifference::NotServed { function: "LinksFunction".into(), route: "POST /ua/{token}".into() },
        ]
    );
}

#[test]
fn a_template_route_given_to_no_function_is_caught() {
    let mut declared = template_routes(&template()).unwrap();
    declared.push(("ReportsFunction".into(), "GET /reports".into()));
    assert_eq!(
        differences(&tables(), &declared),
        vec![RouteDifference::NotServed { function: "ReportsFunction".into(), route: "GET /reports".into() }]
    );
}
