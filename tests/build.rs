//! Marks the conformance tests against the team's real Shopify shapes as ignored (rather than
//! silently passing) when `../shared/fixtures/shopify` is not beside the project.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_fixtures)");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/shopify");
    println!("cargo::rerun-if-changed={}", fixtures.display());
    if fixtures.join("test_vectors.json").exists() {
        println!("cargo::rustc-cfg=shared_fixtures");
    }
}
