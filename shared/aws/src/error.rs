//! Turning SDK errors into [`PortError`]s without leaking request details into responses.

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use reclaim_core::ports::PortError;

/// An SDK failure as "dependency unavailable", with the full chain for the log.
pub(crate) fn unavailable<E, R>(operation: &str, error: SdkError<E, R>) -> PortError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&error).to_string();
    tracing::warn!(operation, error = %detail, "AWS call failed");
    PortError::Unavailable(format!("{operation} failed"))
}
