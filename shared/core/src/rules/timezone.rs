//! The recipient's time zone: from the shipping address (country, and province where a country
//! spans zones), else from the phone number's country, else the shop's.

use crate::model::Region;
use chrono_tz::{self as tz, Tz};

/// Zones of provinces in countries that span several, as (country, province, zone).
const PROVINCES: &[(&str, &str, Tz)] = &[
    // United States
    ("US", "AL", tz::America::Chicago),
    ("US", "AK", tz::America::Anchorage),
    ("US", "AZ", tz::America::Phoenix),
    ("US", "AR", tz::America::Chicago),
    ("US", "CA", tz::America::Los_Angeles),
    ("US", "CO", tz::America::Denver),
    ("US", "CT", tz::America::New_York),
    ("US", "DE", tz::America::New_York),
    ("US", "DC", tz::America::New_York),
    ("US", "FL", tz::America::New_York),
    ("US", "GA", tz::America::New_York),
    ("US", "HI", tz::Pacific::Honolulu),
    ("US", "ID", tz::America::Boise),
    ("US", "IL", tz::America::Chicago),
    ("US", "IN", tz::America::Indiana::Indianapolis),
    ("US", "IA", tz::America::Chicago),
    ("US", "KS", tz::America::Chicago),
    ("US", "KY", tz::America::New_York),
    ("US", "LA", tz::America::Chicago),
    ("US", "ME", tz::America::New_York),
    ("US", "MD", tz::America::New_York),
    ("US", "MA", tz::America::New_York),
    ("US", "MI", tz::America::Detroit),
    ("US", "MN", tz::America::Chicago),
    ("US", "MS", tz::America::Chicago),
    ("US", "MO", tz::America::Chicago),
    ("US", "MT", tz::America::Denver),
    ("US", "NE", tz::America::Chicago),
    ("US", "NV", tz::America::Los_Angeles),
    ("US", "NH", tz::America::New_York),
    ("US", "NJ", tz::America::New_York),
    ("US", "NM", tz::America::Denver),
    ("US", "NY", tz::America::New_York),
    ("US", "NC", tz::America::New_York),
    ("US", "ND", tz::America::Chicago),
    ("US", "OH", tz::America::New_York),
    ("US", "OK", tz::America::Chicago),
    ("US", "OR", tz::America::Los_Angeles),
    ("US", "PA", tz::America::New_York),
    ("US", "RI", tz::America::New_York),
    ("US", "SC", tz::America::New_York),
    ("US", "SD", tz::America::Chicago),
    ("US", "TN", tz::America::Chicago),
    ("US", "TX", tz::America::Chicago),
    ("US", "UT", tz::America::Denver),
    ("US", "VT", tz::America::New_York),
    ("US", "VA", tz::America::New_York),
    ("US", "WA", tz::America::Los_Angeles),
    ("US", "WV", tz::America::New_York),
    ("US", "WI", tz::America::Chicago),
    ("US", "WY", tz::America::Denver),
    ("US", "PR", tz::America::Puerto_Rico),
    // Canada
    ("CA", "AB", tz::America::Edmonton),
    ("CA", "BC", tz::America::Vancouver),
    ("CA", "MB", tz::America::Winnipeg),
    ("CA", "NB", tz::America::Moncton),
    ("CA", "NL", tz::America::St_Johns),
    ("CA", "NS", tz::America::Halifax),
    ("CA", "NT", tz::America::Yellowknife),
    ("CA", "NU", tz::America::Iqaluit),
    ("CA", "ON", tz::America::Toronto),
    ("CA", "PE", tz::America::Halifax),
    ("CA", "QC", tz::America::Toronto),
    ("CA", "SK", tz::America::Regina),
    ("CA", "YT", tz::America::Whitehorse),
    // Australia
    ("AU", "ACT", tz::Australia::Sydney),
    ("AU", "NSW", tz::Australia::Sydney),
    ("AU", "NT", tz::Australia::Darwin),
    ("AU", "QLD", tz::Australia::Brisbane),
    ("AU", "SA", tz::Australia::Adelaide),
    ("AU", "TAS", tz::Australia::Hobart),
    ("AU", "VIC", tz::Australia::Melbourne),
    ("AU", "WA", tz::Australia::Perth),
    // Mexico and Brazil (main exceptions to the capital's zone)
    ("MX", "BC", tz::America::Tijuana),
    ("MX", "SON", tz::America::Hermosillo),
    ("MX", "CHIH", tz::America::Chihuahua),
    ("BR", "AM", tz::America::Manaus),
    ("BR", "MT", tz::America::Cuiaba),
    ("BR", "AC", tz::America::Rio_Branco),
];

/// The usual zone of each country (its most populous zone where it spans several).
const COUNTRIES: &[(&str, Tz)] = &[
    ("US", tz::America::New_York),
    ("CA", tz::America::Toronto),
    ("MX", tz::America::Mexico_City),
    ("BR", tz::America::Sao_Paulo),
    ("AR", tz::America::Argentina::Buenos_Aires),
    ("CL", tz::America::Santiago),
    ("CO", tz::America::Bogota),
    ("PE", tz::America::Lima),
    ("GB", tz::Europe::London),
    ("IE", tz::Europe::Dublin),
    ("PT", tz::Europe::Lisbon),
    ("ES", tz::Europe::Madrid),
    ("FR", tz::Europe::Paris),
    ("BE", tz::Europe::Brussels),
    ("NL", tz::Europe::Amsterdam),
    ("LU", tz::Europe::Luxembourg),
    ("DE", tz::Europe::Berlin),
    ("AT", tz::Europe::Vienna),
    ("CH", tz::Europe::Zurich),
    ("IT", tz::Europe::Rome),
    ("DK", tz::Europe::Copenhagen),
    ("NO", tz::Europe::Oslo),
    ("SE", tz::Europe::Stockholm),
    ("FI", tz::Europe::Helsinki),
    ("PL", tz::Europe::Warsaw),
    ("CZ", tz::Europe::Prague),
    ("SK", tz::Europe::Bratislava),
    ("HU", tz::Europe::Budapest),
    ("SI", tz::Europe::Ljubljana),
    ("HR", tz::Europe::Zagreb),
    ("RO", tz::Europe::Bucharest),
    ("BG", tz::Europe::Sofia),
    ("GR", tz::Europe::Athens),
    ("EE", tz::Europe::Tallinn),
    ("LV", tz::Europe::Riga),
    ("LT", tz::Europe::Vilnius),
    ("UA", tz::Europe::Kyiv),
    ("TR", tz::Europe::Istanbul),
    ("RU", tz::Europe::Moscow),
    ("IS", tz::Atlantic::Reykjavik),
    ("IL", tz::Asia::Jerusalem),
    ("AE", tz::Asia::Dubai),
    ("SA", tz::Asia::Riyadh),
    ("IN", tz::Asia::Kolkata),
    ("PK", tz::Asia::Karachi),
    ("SG", tz::Asia::Singapore),
    ("MY", tz::Asia::Kuala_Lumpur),
    ("TH", tz::Asia::Bangkok),
    ("VN", tz::Asia::Ho_Chi_Minh),
    ("ID", tz::Asia::Jakarta),
    ("PH", tz::Asia::Manila),
    ("HK", tz::Asia::Hong_Kong),
    ("CN", tz::Asia::Shanghai),
    ("TW", tz::Asia::Taipei),
    ("KR", tz::Asia::Seoul),
    ("JP", tz::Asia::Tokyo),
    ("AU", tz::Australia::Sydney),
    ("NZ", tz::Pacific::Auckland),
    ("ZA", tz::Africa::Johannesburg),
    ("NG", tz::Africa::Lagos),
    ("KE", tz::Africa::Nairobi),
    ("EG", tz::Africa::Cairo),
    ("MA", tz::Africa::Casablanca),
];

/// The zone of a country (and province, where it matters).
pub fn zone_of_region(country: &str, province: Option<&str>) -> Option<Tz> {
    let by_province = province.and_then(|p| {
        PROVINCES
            .iter()
            .find(|(c, code, _)| c.eq_ignore_ascii_case(country) && code.eq_ignore_ascii_case(p))
            .map(|(_, _, zone)| *zone)
    });
    by_province.or_else(|| COUNTRIES.iter().find(|(c, _)| c.eq_ignore_ascii_case(country)).map(|(_, zone)| *zone))
}

/// The country of an E.164 phone number.
fn country_of_phone(phone: &str) -> Option<String> {
    let number = phonenumber::parse(None, phone).ok()?;
    number.country().id().map(|id| format!("{id:?}"))
}

/// The recipient's zone: shipping address, else phone number, else the shop's.
pub fn recipient_timezone(region: &Region, phone: Option<&str>, shop: Tz) -> Tz {
    region
        .country_code
        .as_deref()
        .and_then(|country| zone_of_region(country, region.province_code.as_deref()))
        .or_else(|| phone.and_then(country_of_phone).and_then(|country| zone_of_region(&country, None)))
        .unwrap_or(shop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_are_only_listed_for_known_countries() {
        for (country, _, _) in PROVINCES {
            assert!(COUNTRIES.iter().any(|(c, _)| c == country), "{country}");
        }
    }

    #[test]
    fn address_then_phone_then_shop() {
        let region =
            |c: &str, p: Option<&str>| Region { country_code: Some(c.into()), province_code: p.map(Into::into) };
        assert_eq!(
            recipient_timezone(&region("US", Some("CA")), None, chrono_tz::UTC),
            chrono_tz::America::Los_Angeles
        );
        assert_eq!(recipient_timezone(&region("US", None), None, chrono_tz::UTC), chrono_tz::America::New_York);
        assert_eq!(recipient_timezone(&region("DE", Some("BE")), None, chrono_tz::UTC), chrono_tz::Europe::Berlin);
        assert_eq!(
            recipient_timezone(&Region::default(), Some("+61291234567"), chrono_tz::UTC),
            chrono_tz::Australia::Sydney
        );
        assert_eq!(recipient_timezone(&Region::default(), None, chrono_tz::Asia::Tokyo), chrono_tz::Asia::Tokyo);
        assert_eq!(recipient_timezone(&region("ZZ", None), None, chrono_tz::Europe::Paris), chrono_tz::Europe::Paris);
    }
}
