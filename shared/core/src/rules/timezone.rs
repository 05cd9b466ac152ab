//! The recipient's time zone: from the shipping address (country, and province where a country
//! spans zones), else from the phone number's country, else the shop's.

use crate::model::Region;
use chrono_tz::Tz;

/// Zones of provinces in countries that span several, as (country, province, zone).
const PROVINCES: &[(&str, &str, &str)] = &[
    // United States
    ("US", "AL", "America/Chicago"),
    ("US", "AK", "America/Anchorage"),
    ("US", "AZ", "America/Phoenix"),
    ("US", "AR", "America/Chicago"),
    ("US", "CA", "America/Los_Angeles"),
    ("US", "CO", "America/Denver"),
    ("US", "CT", "America/New_York"),
    ("US", "DE", "America/New_York"),
    ("US", "DC", "America/New_York"),
    ("US", "FL", "America/New_York"),
    ("US", "GA", "America/New_York"),
    ("US", "HI", "Pacific/Honolulu"),
    ("US", "ID", "America/Boise"),
    ("US", "IL", "America/Chicago"),
    ("US", "IN", "America/Indiana/Indianapolis"),
    ("US", "IA", "America/Chicago"),
    ("US", "KS", "America/Chicago"),
    ("US", "KY", "America/New_York"),
    ("US", "LA", "America/Chicago"),
    ("US", "ME", "America/New_York"),
    ("US", "MD", "America/New_York"),
    ("US", "MA", "America/New_York"),
    ("US", "MI", "America/Detroit"),
    ("US", "MN", "America/Chicago"),
    ("US", "MS", "America/Chicago"),
    ("US", "MO", "America/Chicago"),
    ("US", "MT", "America/Denver"),
    ("US", "NE", "America/Chicago"),
    ("US", "NV", "America/Los_Angeles"),
    ("US", "NH", "America/New_York"),
    ("US", "NJ", "America/New_York"),
    ("US", "NM", "America/Denver"),
    ("US", "NY", "America/New_York"),
    ("US", "NC", "America/New_York"),
    ("US", "ND", "America/Chicago"),
    ("US", "OH", "America/New_York"),
    ("US", "OK", "America/Chicago"),
    ("US", "OR", "America/Los_Angeles"),
    ("US", "PA", "America/New_York"),
    ("US", "RI", "America/New_York"),
    ("US", "SC", "America/New_York"),
    ("US", "SD", "America/Chicago"),
    ("US", "TN", "America/Chicago"),
    ("US", "TX", "America/Chicago"),
    ("US", "UT", "America/Denver"),
    ("US", "VT", "America/New_York"),
    ("US", "VA", "America/New_York"),
    ("US", "WA", "America/Los_Angeles"),
    ("US", "WV", "America/New_York"),
    ("US", "WI", "America/Chicago"),
    ("US", "WY", "America/Denver"),
    ("US", "PR", "America/Puerto_Rico"),
    // Canada
    ("CA", "AB", "America/Edmonton"),
    ("CA", "BC", "America/Vancouver"),
    ("CA", "MB", "America/Winnipeg"),
    ("CA", "NB", "America/Moncton"),
    ("CA", "NL", "America/St_Johns"),
    ("CA", "NS", "America/Halifax"),
    ("CA", "NT", "America/Yellowknife"),
    ("CA", "NU", "America/Iqaluit"),
    ("CA", "ON", "America/Toronto"),
    ("CA", "PE", "America/Halifax"),
    ("CA", "QC", "America/Toronto"),
    ("CA", "SK", "America/Regina"),
    ("CA", "YT", "America/Whitehorse"),
    // Australia
    ("AU", "ACT", "Australia/Sydney"),
    ("AU", "NSW", "Australia/Sydney"),
    ("AU", "NT", "Australia/Darwin"),
    ("AU", "QLD", "Australia/Brisbane"),
    ("AU", "SA", "Australia/Adelaide"),
    ("AU", "TAS", "Australia/Hobart"),
    ("AU", "VIC", "Australia/Melbourne"),
    ("AU", "WA", "Australia/Perth"),
    // Mexico and Brazil (main exceptions to the capital's zone)
    ("MX", "BC", "America/Tijuana"),
    ("MX", "SON", "America/Hermosillo"),
    ("MX", "CHIH", "America/Chihuahua"),
    ("BR", "AM", "America/Manaus"),
    ("BR", "MT", "America/Cuiaba"),
    ("BR", "AC", "America/Rio_Branco"),
];

/// The usual zone of each country (its most populous zone where it spans several).
const COUNTRIES: &[(&str, &str)] = &[
    ("US", "America/New_York"),
    ("CA", "America/Toronto"),
    ("MX", "America/Mexico_City"),
    ("BR", "America/Sao_Paulo"),
    ("AR", "America/Argentina/Buenos_Aires"),
    ("CL", "America/Santiago"),
    ("CO", "America/Bogota"),
    ("PE", "America/Lima"),
    ("GB", "Europe/London"),
    ("IE", "Europe/Dublin"),
    ("PT", "Europe/Lisbon"),
    ("ES", "Europe/Madrid"),
    ("FR", "Europe/Paris"),
    ("BE", "Europe/Brussels"),
    ("NL", "Europe/Amsterdam"),
    ("LU", "Europe/Luxembourg"),
    ("DE", "Europe/Berlin"),
    ("AT", "Europe/Vienna"),
    ("CH", "Europe/Zurich"),
    ("IT", "Europe/Rome"),
    ("DK", "Europe/Copenhagen"),
    ("NO", "Europe/Oslo"),
    ("SE", "Europe/Stockholm"),
    ("FI", "Europe/Helsinki"),
    ("PL", "Europe/Warsaw"),
    ("CZ", "Europe/Prague"),
    ("SK", "Europe/Bratislava"),
    ("HU", "Europe/Budapest"),
    ("SI", "Europe/Ljubljana"),
    ("HR", "Europe/Zagreb"),
    ("RO", "Europe/Bucharest"),
    ("BG", "Europe/Sofia"),
    ("GR", "Europe/Athens"),
    ("EE", "Europe/Tallinn"),
    ("LV", "Europe/Riga"),
    ("LT", "Europe/Vilnius"),
    ("UA", "Europe/Kyiv"),
    ("TR", "Europe/Istanbul"),
    ("RU", "Europe/Moscow"),
    ("IS", "Atlantic/Reykjavik"),
    ("IL", "Asia/Jerusalem"),
    ("AE", "Asia/Dubai"),
    ("SA", "Asia/Riyadh"),
    ("IN", "Asia/Kolkata"),
    ("PK", "Asia/Karachi"),
    ("SG", "Asia/Singapore"),
    ("MY", "Asia/Kuala_Lumpur"),
    ("TH", "Asia/Bangkok"),
    ("VN", "Asia/Ho_Chi_Minh"),
    ("ID", "Asia/Jakarta"),
    ("PH", "Asia/Manila"),
    ("HK", "Asia/Hong_Kong"),
    ("CN", "Asia/Shanghai"),
    ("TW", "Asia/Taipei"),
    ("KR", "Asia/Seoul"),
    ("JP", "Asia/Tokyo"),
    ("AU", "Australia/Sydney"),
    ("NZ", "Pacific/Auckland"),
    ("ZA", "Africa/Johannesburg"),
    ("NG", "Africa/Lagos"),
    ("KE", "Africa/Nairobi"),
    ("EG", "Africa/Cairo"),
    ("MA", "Africa/Casablanca"),
];

fn zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// The zone of a country (and province, where it matters).
pub fn zone_of_region(country: &str, province: Option<&str>) -> Option<Tz> {
    let country = country.to_ascii_uppercase();
    let by_province = province.and_then(|p| {
        let p = p.to_ascii_uppercase();
        PROVINCES.iter().find(|(c, code, _)| *c == country && *code == p).and_then(|(_, _, z)| zone(z))
    });
    by_province.or_else(|| COUNTRIES.iter().find(|(c, _)| *c == country).and_then(|(_, z)| zone(z)))
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
    fn every_zone_in_the_tables_exists() {
        for (_, _, name) in PROVINCES {
            assert!(zone(name).is_some(), "{name}");
        }
        for (_, name) in COUNTRIES {
            assert!(zone(name).is_some(), "{name}");
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
