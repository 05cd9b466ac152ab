//! Sender health: when a shop's email pauses itself to protect its sending reputation.
//!
//! Mailbox providers and SES judge a sender by its complaint rate (keep it under 0.1%) and its
//! bounce rate (under 5%). Rates are taken over the last [`HEALTH_WINDOW_DAYS`] days, once a shop
//! has sent at least [`MIN_SAMPLE`] emails in them: below that one complaint is noise (and SES's
//! own account-level protection still applies).

/// The days the rates are computed over.
pub const HEALTH_WINDOW_DAYS: i64 = 30;
/// The fewest sends in the window for the rates to count.
pub const MIN_SAMPLE: i64 = 100;

/// Why email pauses, if it must: `complaint_rate` at 0.1% or more, `bounce_rate` at 5% or more.
pub fn pause_reason(sends: i64, bounces: i64, complaints: i64) -> Option<&'static str> {
    if sends < MIN_SAMPLE {
        None
    } else if complaints * 1000 >= sends {
        Some("complaint_rate")
    } else if bounces * 20 >= sends {
        Some("bounce_rate")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let cases = [
            // (sends, bounces, complaints, expected)
            (10_000, 0, 9, None),
            (10_000, 0, 10, Some("complaint_rate")),
            (1_000, 49, 0, None),
            (1_000, 50, 0, Some("bounce_rate")),
            (1_000, 50, 1, Some("complaint_rate")),
            (0, 0, 0, None),
            (99, 50, 10, None),
            (100, 5, 0, Some("bounce_rate")),
            (100, 4, 1, Some("complaint_rate")),
            (100, 4, 0, None),
        ];
        for (sends, bounces, complaints, expected) in cases {
            assert_eq!(pause_reason(sends, bounces, complaints), expected, "{sends}/{bounces}/{complaints}");
        }
    }
}
