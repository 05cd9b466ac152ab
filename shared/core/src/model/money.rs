//! Money in integer minor units with its ISO 4217 currency.

use super::ModelError;
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code: three upper-case ASCII letters, kept inline (no allocation: every
/// line item of every checkout carries one).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl std::fmt::Debug for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl Currency {
    /// Accepts three ASCII letters, in any case.
    pub fn parse(value: &str) -> Result<Self, ModelError> {
        match value.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => Err(ModelError::Currency(value.to_owned())),
        }
    }
    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("three ASCII letters")
    }
    /// How many minor units the currency has (ISO 4217 exponent).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
            | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

/// An amount of money: integer minor units (cents) and the currency. Never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Parses a decimal string such as `"379.69"` into minor units of `currency`, exactly.
    pub fn parse(field: &'static str, value: &str, currency: &Currency) -> Result<Self, ModelError> {
        let bad = || ModelError::Amount { field, value: value.to_owned() };
        let exponent = currency.exponent() as usize;
        // A price, total or line is never negative: a minus sign is refused, not kept.
        let digits = value.trim();
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // Extra fractional digits must be zeros: "10.500" is fine for USD, "10.505" is not.
        let (kept, dropped) = fraction.split_at(fraction.len().min(exponent));
        if !dropped.bytes().all(|b| b == b'0') {
            return Err(bad());
        }
        let mut digits = whole.bytes().chain(kept.bytes()).chain(std::iter::repeat_n(b'0', exponent - kept.len()));
        let minor = digits
            .try_fold(0_i64, |acc, digit| acc.checked_mul(10)?.checked_add(i64::from(digit - b'0')))
            .ok_or_else(bad)?;
        Ok(Self { minor, currency: *currency })
    }

    /// A line's total: `quantity` times this unit price, or `None` when it overflows.
    pub fn times(&self, quantity: u32) -> Option<Self> {
        Some(Self { minor: self.minor.checked_mul(i64::from(quantity))?, currency: self.currency })
    }

    /// The sum of `amounts` in `currency`, or `None` when it overflows.
    pub fn sum(currency: Currency, amounts: impl IntoIterator<Item = Money>) -> Option<Self> {
        let minor = amounts.into_iter().try_fold(0_i64, |total, amount| total.checked_add(amount.minor))?;
        Some(Self { minor, currency })
    }

    /// The amount as people write it in `locale` (a BCP 47 locale such as Shopify's checkout
    /// `locale`: `en`, `de-AT`, `pt_BR`), from CLDR's data through ICU4X: `$89.00` in `en-US`,
    /// `89,00 €` in `de`, `€89.00` in `en`. A locale ICU cannot read is formatted as English; a
    /// currency it has no data for falls back to [`Self::display`].
    pub fn format_for(&self, locale: &str) -> String {
        use icu_experimental::dimension::currency::CurrencyType;
        use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
        let locale =
            icu_locale_core::Locale::try_from_str(&locale.replace('_', "-")).unwrap_or(icu_locale_core::locale!("en"));
        let Ok(currency) = CurrencyType::try_from_str(self.currency.as_str()) else { return self.display() };
        let Ok(formatter) = CurrencyFormatter::try_new_symbol((&locale).into(), currency, Default::default()) else {
            return self.display();
        };
        let mut amount = fixed_decimal::Decimal::from(self.minor);
        amount.multiply_pow10(-(self.currency.exponent() as i16));
        formatter.format_fixed_decimal(&amount).to_string()
    }

    /// Formats the amount for people, e.g. `USD 379.69`.
    pub fn display(&self) -> String {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return format!("{} {}", self.currency.as_str(), self.minor);
        }
        let scale = 10_i64.pow(exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!(
            "{} {sign}{}.{:0width$}",
            self.currency.as_str(),
            abs / scale as u64,
            abs % scale as u64,
            width = exponent as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, currency: &str) -> Money {
        Money { minor, currency: Currency::parse(currency).unwrap() }
    }

    #[test]
    fn amounts_are_written_as_the_shoppers_locale_writes_them() {
        // CLDR separates a trailing symbol with a no-break space.
        for (amount, locale, written) in [
            (money(8900, "USD"), "en", "$89.00"),
            (money(8900, "USD"), "en-US", "$89.00"),
            (money(8900, "EUR"), "de", "89,00\u{a0}€"),
            (money(8900, "EUR"), "de-DE", "89,00\u{a0}€"),
            (money(8900, "EUR"), "fr", "89,00\u{a0}€"),
            (money(8900, "EUR"), "nl", "€\u{a0}89,00"),
            (money(8900, "EUR"), "en", "€89.00"),
            (money(123_456_789, "EUR"), "de", "1.234.567,89\u{a0}€"),
            (money(8900, "BRL"), "pt_BR", "R$\u{a0}89,00"),
            (money(8900, "JPY"), "ja", "￥8,900"),
            (money(8900, "JPY"), "en", "¥8,900"),
            (money(12345, "KWD"), "en", "KWD\u{a0}12.345"),
            (money(8900, "USD"), "not a locale!", "$89.00"),
        ] {
            assert_eq!(amount.format_for(locale), written, "{amount:?} in {locale}");
        }
    }
}
