//! The emulator's outbox: moto keeps every email SES "sent" and shows it at
//! `GET /moto-api/data.json`. This module reads them back (raw MIME, headers intact) and writes
//! each one's HTML part to a file.

use anyhow::Context;
use mail_parser::MessageParser;
use std::path::{Path, PathBuf};

/// One email the emulator accepted.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub list_unsubscribe: Option<String>,
    pub list_unsubscribe_post: Option<String>,
}

/// Every email sent so far, oldest first.
pub async fn sent_emails(endpoint: &str) -> anyhow::Result<Vec<SentEmail>> {
    let data: serde_json::Value =
        reqwest::get(format!("{endpoint}/moto-api/data.json")).await?.json().await.context("moto data.json")?;
    let raw_messages = data.pointer("/ses/RawMessage").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    let emails = raw_messages
        .iter()
        .filter_map(|message| message.get("raw_data").and_then(|v| v.as_str()))
        .map(parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(emails)
}

fn parse(raw: &str) -> anyhow::Result<SentEmail> {
    let message = MessageParser::default().parse(raw.as_bytes()).context("unparseable MIME")?;
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_owned());
    Ok(SentEmail {
        to: message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        html: message.body_html(0).map(|b| b.into_owned()).unwrap_or_default(),
        text: message.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        list_unsubscribe: header("List-Unsubscribe"),
        list_unsubscribe_post: header("List-Unsubscribe-Post"),
    })
}

/// Polls the emulator's outbox every `interval` in the background and publishes what it holds,
/// so that many waiters cost one request at a time. Stops when every receiver is gone.
pub fn watch(endpoint: String, interval: std::time::Duration) -> tokio::sync::watch::Receiver<Vec<SentEmail>> {
    let (sender, receiver) = tokio::sync::watch::channel(Vec::new());
    tokio::spawn(async move {
        while !sender.is_closed() {
            match sent_emails(&endpoint).await {
                Ok(emails) => {
                    sender.send_if_modified(|current| {
                        let changed = current.len() != emails.len();
                        if changed {
                            *current = emails;
                        }
                        changed
                    });
                }
                Err(error) => tracing::warn!(error = format!("{error:#}"), "reading the emulator's outbox"),
            }
            tokio::time::sleep(interval).await;
        }
    });
    receiver
}

/// Writes each email's HTML to `dir/NNN-<recipient>.html` (the directory is emptied first).
pub fn write_html(emails: &[SentEmail], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    emails
        .iter()
        .enumerate()
        .map(|(index, email)| {
            let safe: String =
                email.to.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
            let path = dir.join(format!("{:03}-{safe}.html", index + 1));
            std::fs::write(&path, &email.html)?;
            Ok(path)
        })
        .collect()
}
