//! The emulator's outbox: moto keeps every email SES "sent", every SMS and every push SNS
//! "published", and shows them at `GET /moto-api/data.json`. This module reads them back (emails as
//! raw MIME, headers intact) and writes each email's HTML part to a file.

use anyhow::Context;
use mail_parser::{MessageParser, MimeHeaders};
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
    /// The `Reply-To` address, if any.
    pub reply_to: Option<String>,
    /// Attachments: (file name, content).
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl SentEmail {
    /// The first attachment, read as JSON (a customer data export).
    pub fn attachment_json(&self) -> Option<serde_json::Value> {
        self.attachments.first().and_then(|(_, content)| serde_json::from_slice(content).ok())
    }
}

/// Every email sent so far, oldest first.
pub async fn sent_emails(endpoint: &str) -> anyhow::Result<Vec<SentEmail>> {
    let data = data(endpoint).await?;
    let raw_messages = data.pointer("/ses/RawMessage").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    let emails = raw_messages
        .iter()
        .filter_map(|message| message.get("raw_data").and_then(|v| v.as_str()))
        .map(parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(emails)
}

/// One SMS the emulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub to: String,
    pub body: String,
}

/// One push notification the emulator accepted for a device endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPush {
    pub endpoint: String,
    /// The per-platform JSON message as published.
    pub message: String,
}

/// moto's view of every backend. moto builds it by walking its backends while other requests may
/// be changing them, so under concurrent load it now and then answers with an error page: such an
/// answer is read again, a few times.
async fn data(endpoint: &str) -> anyhow::Result<serde_json::Value> {
    reclaim_aws::install_tls_provider();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let response = reqwest::get(format!("{endpoint}/moto-api/data.json")).await?;
        let status = response.status();
        match response.json::<serde_json::Value>().await {
            Ok(value) if status.is_success() => return Ok(value),
            Ok(_) | Err(_) if attempt < 5 => {
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Ok(_) => anyhow::bail!("moto data.json answered {status}"),
            Err(error) => return Err(anyhow::Error::new(error).context(format!("moto data.json ({status})"))),
        }
    }
}

/// Every SMS sent so far (moto's `sns.SMS`), oldest first.
pub async fn sent_sms(endpoint: &str) -> anyhow::Result<Vec<SentSms>> {
    let data = data(endpoint).await?;
    let messages = data.pointer("/sns/SMS").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    Ok(messages
        .iter()
        .map(|m| SentSms {
            to: m["phone_number"].as_str().unwrap_or_default().to_owned(),
            body: m["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Every push sent so far, by endpoint (moto's `sns.PlatformEndpoint[].messages`).
pub async fn sent_pushes(endpoint: &str) -> anyhow::Result<Vec<SentPush>> {
    let data = data(endpoint).await?;
    let endpoints = data.pointer("/sns/PlatformEndpoint").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    Ok(endpoints
        .iter()
        .flat_map(|e| {
            let arn = e["arn"].as_str().unwrap_or_default().to_owned();
            let messages = e["messages"].as_object().cloned().unwrap_or_default();
            messages
                .into_values()
                .map(move |m| SentPush { endpoint: arn.clone(), message: m.as_str().unwrap_or_default().to_owned() })
        })
        .collect())
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
        reply_to: message.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned),
        attachments: message
            .attachments()
            .map(|a| (a.attachment_name().unwrap_or_default().to_owned(), a.contents().to_vec()))
            .collect(),
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
