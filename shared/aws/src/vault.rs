//! [`Vault`] on KMS: envelope encryption. Each secret gets a fresh 256-bit data key from
//! `GenerateDataKey`; the secret is encrypted locally with AES-256-GCM under it, and only the data
//! key's KMS ciphertext, the nonce and the secret's ciphertext are kept. Opening asks KMS to
//! decrypt the data key (`Decrypt`), then decrypts locally. The plaintext never reaches the table
//! or the logs. Both the data key (KMS encryption context `shop`) and the local encryption
//! (AES-GCM associated data) are bound to the shop: a token sealed for one shop opens for no other.

use crate::error::unavailable;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reclaim_core::model::{SealedSecret, ShopDomain};
use reclaim_core::ports::{PortError, PortResult, Vault};

/// The encryption context's key naming the shop a secret belongs to.
const CONTEXT_KEY: &str = "shop";

/// KMS envelope encryption under one key.
#[derive(Debug, Clone)]
pub struct KmsVault {
    client: Client,
    key_id: String,
}

impl KmsVault {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into() }
    }
}

fn cipher_for(data_key: &[u8]) -> PortResult<Aes256Gcm> {
    Aes256Gcm::new_from_slice(data_key).map_err(|_| PortError::Unavailable("the data key is not 256 bits".into()))
}

fn decode(field: &str, value: &str) -> PortResult<Vec<u8>> {
    BASE64.decode(value).map_err(|_| PortError::Rejected(format!("sealed secret: unreadable {field}")))
}

impl Vault for KmsVault {
    async fn seal(&self, shop: &ShopDomain, secret: &str) -> PortResult<SealedSecret> {
        let key = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT_KEY, shop.as_str())
            .send()
            .await
            .map_err(|e| unavailable("GenerateDataKey", e))?;
        let (Some(plaintext), Some(wrapped)) = (key.plaintext, key.ciphertext_blob) else {
            return Err(PortError::Unavailable("GenerateDataKey returned no key".into()));
        };
        let cipher = cipher_for(plaintext.as_ref())?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, Payload { msg: secret.as_bytes(), aad: shop.as_str().as_bytes() })
            .map_err(|_| PortError::Rejected("AES-GCM encryption failed".into()))?;
        Ok(SealedSecret {
            key_id: key.key_id.unwrap_or_else(|| self.key_id.clone()),
            wrapped_key: BASE64.encode(wrapped.as_ref()),
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
        })
    }

    async fn open(&self, shop: &ShopDomain, sealed: &SealedSecret) -> PortResult<String> {
        let wrapped = decode("wrapped_key", &sealed.wrapped_key)?;
        let key = self
            .client
            .decrypt()
            .key_id(&sealed.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .encryption_context(CONTEXT_KEY, shop.as_str())
            .send()
            .await;
        let key = match key {
            Ok(key) => key,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_invalid_ciphertext_exception()) => {
                return Err(PortError::Rejected("sealed for another shop".into()));
            }
            Err(e) => return Err(unavailable("Decrypt", e)),
        };
        let plaintext = key.plaintext.ok_or_else(|| PortError::Unavailable("Decrypt returned no key".into()))?;
        let cipher = cipher_for(plaintext.as_ref())?;
        let nonce: [u8; 12] = decode("nonce", &sealed.nonce)?
            .try_into()
            .map_err(|_| PortError::Rejected("sealed secret: bad nonce".into()))?;
        let secret = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload { msg: decode("ciphertext", &sealed.ciphertext)?.as_ref(), aad: shop.as_str().as_bytes() },
            )
            .map_err(|_| PortError::Rejected("sealed secret does not decrypt".into()))?;
        String::from_utf8(secret).map_err(|_| PortError::Rejected("sealed secret is not text".into()))
    }
}
