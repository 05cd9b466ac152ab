//! Embeds the embedded app's built assets (`app/dist`, written by `make app`: esbuild's
//! fingerprinted bundle and its `manifest.json`) so the function serves them itself. Without a
//! build the function still compiles, and `/app` says how to build the app.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let dist = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../app/dist");
    let manifest = dist.join("manifest.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let mut code = String::new();
    match std::fs::read_to_string(&manifest) {
        Ok(text) => {
            let manifest: serde_json::Value = serde_json::from_str(&text).expect("app/dist/manifest.json is JSON");
            let entry = |name: &str| manifest[name].as_str().expect("manifest names js and css").to_owned();
            let (script, styles) = (entry("js"), entry("css"));
            writeln!(code, "/// The app's script and styles (fingerprinted names).").unwrap();
            writeln!(code, "pub const BUILT: Option<(&str, &str)> = Some(({script:?}, {styles:?}));").unwrap();
            writeln!(code, "/// Every asset: name, content type, content.").unwrap();
            writeln!(code, "pub static ASSETS: &[(&str, &str, &str)] = &[").unwrap();
            for (name, kind) in [(&script, "text/javascript; charset=utf-8"), (&styles, "text/css; charset=utf-8")] {
                let path = dist.join("assets").join(name);
                println!("cargo:rerun-if-changed={}", path.display());
                writeln!(code, "    ({name:?}, {kind:?}, include_str!({:?})),", path.display().to_string()).unwrap();
            }
            writeln!(code, "];").unwrap();
        }
        Err(_) => {
            println!("cargo:warning=app/dist is not built (run `make app`): /app will say so");
            code.push_str("pub const BUILT: Option<(&str, &str)> = None;\n");
            code.push_str("pub static ASSETS: &[(&str, &str, &str)] = &[];\n");
        }
    }
    std::fs::write(PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("app_assets.rs"), code).unwrap();
}
