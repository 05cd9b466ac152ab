//! The moto emulator as a child process. It runs `infra/emulator/moto_guard.py` with the
//! project's venv Python; the guard exits when this process goes away (its stdin pipe closes),
//! and [`Emulator`] kills it on drop too. Plain `std::process`, so one emulator can serve tests
//! that each run their own async runtime.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    endpoint: String,
}

/// The workspace root (where `.venv` and `infra/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("infra lives in the workspace").to_path_buf()
}

/// The Python that has moto: `$RECLAIM_PYTHON`, else the project's `.venv`.
fn python() -> PathBuf {
    std::env::var_os("RECLAIM_PYTHON").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv/bin/python"))
}

impl Emulator {
    /// Starts moto on a free port (or `port` when not 0) and waits until it answers.
    pub fn start(port: u16) -> anyhow::Result<Self> {
        let python = python();
        if !python.exists() {
            bail!("{} not found: run `make venv` (`make demo` and `make test` do it for you)", python.display());
        }
        let script = workspace_root().join("infra/emulator/moto_guard.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", script.display()))?;
        let stdout = child.stdout.take().context("emulator stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).context("reading the emulator's port")?;
        let Some(port) = line.trim().strip_prefix("PORT ").and_then(|p| p.parse::<u16>().ok()) else {
            let _ = child.kill();
            bail!("the emulator did not start (said {line:?}); is moto installed in the venv?");
        };
        Ok(Self { child, endpoint: format!("http://127.0.0.1:{port}") })
    }

    /// The emulator's URL, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
