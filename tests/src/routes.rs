//! Reading the HTTP API's routes out of `template.yaml` (every `HttpApi` event of every
//! function) and comparing them with the functions' route tables.

use reclaim_core::web::Route;
use std::collections::BTreeSet;

/// A way in which the route tables and the template disagree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteDifference {
    /// The function serves it locally, but the template gives API Gateway no such route.
    NotInTemplate { function: String, route: String },
    /// The template routes it to the function, which has no such route (or no table at all).
    NotServed { function: String, route: String },
}

/// Every `HttpApi` event in the template, as (function logical id, `METHOD /path`).
pub fn template_routes(template: &str) -> Result<Vec<(String, String)>, serde_norway::Error> {
    let document: serde_norway::Value = serde_norway::from_str(template)?;
    let mut routes = Vec::new();
    let resources = document.get("Resources").and_then(|r| r.as_mapping()).cloned().unwrap_or_default();
    for (name, resource) in resources {
        let Some(name) = name.as_str() else { continue };
        let events = resource.get("Properties").and_then(|p| p.get("Events")).and_then(|e| e.as_mapping());
        for event in events.into_iter().flat_map(|events| events.values()) {
            if event.get("Type").and_then(|t| t.as_str()) != Some("HttpApi") {
                continue;
            }
            let properties = event.get("Properties");
            let field = |key: &str| properties.and_then(|p| p.get(key)).and_then(|v| v.as_str()).map(str::to_owned);
            if let (Some(method), Some(path)) = (field("Method"), field("Path")) {
                routes.push((name.to_owned(), format!("{} {path}", method.to_uppercase())));
            }
        }
    }
    routes.sort();
    Ok(routes)
}

/// Every difference between the functions' tables and the template's routes, sorted.
pub fn differences(tables: &[(&str, &[Route])], declared: &[(String, String)]) -> Vec<RouteDifference> {
    let served: BTreeSet<(String, String)> = tables
        .iter()
        .flat_map(|(function, routes)| {
            routes.iter().map(move |route| ((*function).to_owned(), format!("{} {}", route.method, route.path)))
        })
        .collect();
    let declared: BTreeSet<(String, String)> = declared.iter().cloned().collect();
    let mut found: Vec<RouteDifference> = served
        .difference(&declared)
        .map(|(function, route)| RouteDifference::NotInTemplate { function: function.clone(), route: route.clone() })
        .chain(
            declared.difference(&served).map(|(function, route)| RouteDifference::NotServed {
                function: function.clone(),
                route: route.clone(),
            }),
        )
        .collect();
    found.sort();
    found
}
