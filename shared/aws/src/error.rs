//! Turning SDK errors into [`PortError`]s without leaking request details into responses.
//!
//! Two readings: [`unavailable`] for calls that are safe to repeat (storage, schedules), and
//! [`provider_failure`] for calls that hand a message to a provider, where what matters is
//! whether the message may have gone out.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::config::http::HttpResponse;
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

/// Error codes by which a provider says "not now": the request was refused unprocessed.
const NOT_NOW: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "LimitExceededException",
    "KMSThrottlingException",
    "ServiceUnavailable",
];

/// A failed provider call (made with the SDK's retries off), read for whether its message may
/// have gone out:
/// - never sent (the request was not built, the connection was refused, or the provider
///   answered throttling or a 5xx): [`PortError::Unavailable`], safe to try again later;
/// - answered with any other refusal: [`PortError::Rejected`];
/// - the request left and no usable answer came (a timeout, a dropped connection, an
///   unreadable response): [`PortError::Ambiguous`], never to be repeated blindly.
pub(crate) fn provider_failure<E>(operation: &str, error: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&error).to_string();
    tracing::warn!(operation, error = %detail, "provider call failed");
    match &error {
        SdkError::ConstructionFailure(_) => PortError::Unavailable(format!("{operation}: request not built")),
        SdkError::DispatchFailure(failure)
            if failure.is_user() || failure.as_connector_error().is_some_and(|e| never_connected(e)) =>
        {
            PortError::Unavailable(format!("{operation}: not connected"))
        }
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or("Unknown");
            let status = context.raw().status().as_u16();
            if status >= 500 || status == 429 || NOT_NOW.contains(&code) {
                PortError::Unavailable(format!("{operation}: {code}"))
            } else {
                PortError::Rejected(format!("{operation}: {code}"))
            }
        }
        _ => PortError::Ambiguous(format!("{operation}: no answer")),
    }
}

/// Whether a connector error says the connection was never made (so nothing was sent).
fn never_connected(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        cause = current.source();
    }
    false
}
