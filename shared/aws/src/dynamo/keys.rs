//! Every item key of the table, in one place: the partition key (`pk`) and sort key (`sk`) of
//! each kind of item, as the key table in `docs/architecture.md` lists them (a test holds the two
//! together). Keys hold hashes and platform ids, never an address.

use chrono::{DateTime, NaiveDate, Utc};
use reclaim_core::model::{CartToken, CheckoutToken, ContactKey, ShopDomain, SmsThreadKey, WebhookId};

/// A partition key and a sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }
}

/// The sort key of an item that is alone in its partition.
pub const ONLY: &str = "-";
/// The sort key of a partition's main record.
pub const STATE: &str = "STATE";

/// The partition of a checkout: its record and everything under it.
pub fn checkout_partition(shop: &ShopDomain, checkout: &CheckoutToken) -> String {
    format!("CHK#{shop}#{checkout}")
}

/// The shop and checkout of a checkout's partition key (the reverse of [`checkout_partition`]).
pub fn parse_checkout_partition(pk: &str) -> Option<(ShopDomain, CheckoutToken)> {
    let (shop, checkout) = pk.strip_prefix("CHK#")?.split_once('#')?;
    Some((ShopDomain::parse(shop).ok()?, CheckoutToken::new(checkout).ok()?))
}

/// How many partitions one shop's items are spread over in the `by_shop` index, so that no
/// index key takes every write of a shop.
pub const SHOP_SHARDS: u8 = 16;

/// The `by_shop` partition of an item: its shop and a shard. A checkout's, cart's or contact's
/// items share the shard of their owner, so that erasing one owner is one query; the shop's own
/// items (counters, quotas, settings, leases), written by every event, spread by their key.
pub fn shop_shard(shop: &ShopDomain, owner: &str, key: &Key) -> String {
    if owner == super::SHOP_OWNER {
        shard_of(shop, &format!("{}\n{}", key.pk, key.sk))
    } else {
        owner_shard(shop, owner)
    }
}

/// The one `by_shop` partition of a checkout's, cart's or contact's items.
pub fn owner_shard(shop: &ShopDomain, owner: &str) -> String {
    shard_of(shop, owner)
}

fn shard_of(shop: &ShopDomain, spread: &str) -> String {
    use sha2::Digest;
    let shard = sha2::Sha256::digest(spread.as_bytes())[0] % SHOP_SHARDS;
    format!("{shop}#{shard}")
}

/// Every `by_shop` partition of a shop.
pub fn shop_shards(shop: &ShopDomain) -> impl Iterator<Item = String> + '_ {
    (0..SHOP_SHARDS).map(move |shard| format!("{shop}#{shard}"))
}

/// How many partitions one day of armed checkouts is spread over in the `by_due` index.
pub const DUE_SHARDS: u8 = 8;

/// The shard of a checkout in the `by_due` index (stable: a hash of shop and checkout).
pub fn due_shard(shop: &ShopDomain, checkout: &CheckoutToken) -> u8 {
    use sha2::Digest;
    sha2::Sha256::digest(format!("{shop}\n{checkout}").as_bytes())[0] % DUE_SHARDS
}

/// The `by_due` partition of a day's shard: `DUE#{day}#{shard}`.
pub fn due_bucket(day: NaiveDate, shard: u8) -> String {
    format!("DUE#{day}#{shard}")
}

/// The `by_due` sort key: the due time, in a text form that sorts as time does.
pub fn due_at(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The partition of a cart: its snapshot and its storefront capture.
pub fn cart_partition(shop: &ShopDomain, cart: &CartToken) -> String {
    format!("CART#{shop}#{cart}")
}

/// The partition of a contact's state (also the `contact_key` of the contact index).
pub fn contact_partition(shop: &ShopDomain, contact: &ContactKey) -> String {
    format!("CONTACT#{shop}#{}", contact.as_str())
}

/// The partition of a shop's own items.
pub fn shop_partition(shop: &ShopDomain) -> String {
    format!("SHOP#{shop}")
}

/// A checkout's record.
pub fn checkout(shop: &ShopDomain, checkout: &CheckoutToken) -> Key {
    Key::new(checkout_partition(shop, checkout), STATE)
}

/// The prefix of a checkout's message items.
pub const MESSAGE_PREFIX: &str = "MSG#";
/// The prefix of a checkout's reply items.
pub const REPLY_PREFIX: &str = "REPLY#";

/// The claim and record of a checkout's step.
pub fn message(shop: &ShopDomain, checkout: &CheckoutToken, step: u32) -> Key {
    Key::new(checkout_partition(shop, checkout), format!("{MESSAGE_PREFIX}{step:03}"))
}

/// The discount code of a checkout's step.
pub fn discount(shop: &ShopDomain, checkout: &CheckoutToken, step: u32) -> Key {
    Key::new(checkout_partition(shop, checkout), format!("DISCOUNT#{step:03}"))
}

/// A shopper's reply about a checkout, sorted by time.
pub fn reply(shop: &ShopDomain, checkout: &CheckoutToken, at: DateTime<Utc>, id: &str) -> Key {
    Key::new(checkout_partition(shop, checkout), format!("{REPLY_PREFIX}{}#{id}", at.to_rfc3339()))
}

/// An order that arrived before this checkout.
pub fn checkout_tombstone(shop: &ShopDomain, checkout: &CheckoutToken) -> Key {
    Key::new(checkout_partition(shop, checkout), TOMBSTONE)
}

/// An order that arrived before any checkout of this cart.
pub fn cart_tombstone(shop: &ShopDomain, cart: &CartToken) -> Key {
    Key::new(cart_partition(shop, cart), TOMBSTONE)
}

/// The sort key of a tombstone.
const TOMBSTONE: &str = "TOMBSTONE";

/// A cart's latest snapshot.
pub fn cart(shop: &ShopDomain, cart: &CartToken) -> Key {
    Key::new(cart_partition(shop, cart), STATE)
}

/// A cart's storefront capture.
pub fn capture(shop: &ShopDomain, cart: &CartToken) -> Key {
    Key::new(cart_partition(shop, cart), "CAPTURE")
}

/// A contact's state.
pub fn contact(shop: &ShopDomain, contact: &ContactKey) -> Key {
    Key::new(contact_partition(shop, contact), STATE)
}

/// The dedupe item of a delivery (webhook, inbound SMS, OAuth code).
pub fn delivery(shop: &ShopDomain, id: &WebhookId) -> Key {
    Key::new(format!("DELIVERY#{shop}#{id}"), ONLY)
}

/// A shop's settings.
pub fn settings(shop: &ShopDomain) -> Key {
    Key::new(shop_partition(shop), "SETTINGS")
}

/// A shop's operational state.
pub fn shop_state(shop: &ShopDomain) -> Key {
    Key::new(shop_partition(shop), STATE)
}

/// A shop's sealed access token.
pub fn token(shop: &ShopDomain) -> Key {
    Key::new(shop_partition(shop), "TOKEN")
}

/// A shop's SMS budget for a month (`2026-06`).
pub fn sms_budget(shop: &ShopDomain, month: &str) -> Key {
    Key::new(shop_partition(shop), format!("SMSBUDGET#{month}"))
}

/// How many recovery messages a shop sent on a day (the operator's daily cap).
pub fn daily_sends(shop: &ShopDomain, day: NaiveDate) -> Key {
    Key::new(shop_partition(shop), format!("SENDS#{day}"))
}

/// How many storefront captures a shop took in a minute (`2026-06-01T10:05`): the rate limit.
pub fn minute_captures(shop: &ShopDomain, minute: &str) -> Key {
    Key::new(shop_partition(shop), format!("CAPTURES#{minute}"))
}

/// The prefix of a shop's stats items.
pub const STATS_PREFIX: &str = "STATS#";

/// One shard of a shop's counters for a day.
pub fn stats(shop: &ShopDomain, day: NaiveDate, shard: u8) -> Key {
    Key::new(shop_partition(shop), format!("{STATS_PREFIX}{day}#{shard}"))
}

/// The sort keys that bound a shop's stats from `from` to `to`, both days included.
pub fn stats_range(from: NaiveDate, to: NaiveDate) -> (String, String) {
    (format!("{STATS_PREFIX}{from}"), format!("{STATS_PREFIX}{to}#~"))
}

/// The signed token behind a short link.
pub fn short_link(code: &str) -> Key {
    Key::new(format!("LINK#{code}"), ONLY)
}

/// Which checkout an SMS conversation is about.
pub fn sms_thread(thread: &SmsThreadKey, shop: &ShopDomain) -> Key {
    Key::new(sms_thread_partition(thread), format!("{SHOP_PREFIX}{shop}"))
}

/// The partition of an SMS thread: one item per shop that texted on it.
pub fn sms_thread_partition(thread: &SmsThreadKey) -> String {
    format!("SMSTHREAD#{}", thread.as_str())
}

/// The prefix of the per-shop items under an SMS thread.
pub const SHOP_PREFIX: &str = "SHOP#";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeSet;

    /// Sample values, and the placeholder each stands for in the documentation's table.
    struct Samples {
        shop: ShopDomain,
        checkout: CheckoutToken,
        cart: CartToken,
        contact: ContactKey,
        thread: SmsThreadKey,
        webhook: WebhookId,
        at: DateTime<Utc>,
        day: NaiveDate,
    }

    fn samples() -> Samples {
        let shop = ShopDomain::parse("keys.myshopify.com").unwrap();
        Samples {
            contact: ContactKey::for_email(&shop, "ada@example.com"),
            shop,
            checkout: CheckoutToken::new("chk1").unwrap(),
            cart: CartToken::new("cart1").unwrap(),
            thread: SmsThreadKey::new(Some("+15550000000"), "+12125550142"),
            webhook: WebhookId::new("wh1").unwrap(),
            at: Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
            day: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        }
    }

    /// One key of every kind the adapter writes.
    fn every_kind(s: &Samples) -> BTreeSet<Key> {
        BTreeSet::from([
            checkout(&s.shop, &s.checkout),
            message(&s.shop, &s.checkout, 7),
            discount(&s.shop, &s.checkout, 7),
            reply(&s.shop, &s.checkout, s.at, "r1"),
            cart(&s.shop, &s.cart),
            capture(&s.shop, &s.cart),
            checkout_tombstone(&s.shop, &s.checkout),
            cart_tombstone(&s.shop, &s.cart),
            contact(&s.shop, &s.contact),
            delivery(&s.shop, &s.webhook),
            settings(&s.shop),
            shop_state(&s.shop),
            token(&s.shop),
            sms_budget(&s.shop, "2026-06"),
            daily_sends(&s.shop, s.day),
            minute_captures(&s.shop, "2026-06-01T12:00"),
            stats(&s.shop, s.day, 3),
            short_link("code1"),
            sms_thread(&s.thread, &s.shop),
        ])
    }

    /// The `pk | sk` rows of the key table in docs/architecture.md, with the placeholders filled
    /// in from the samples (`{hash}` stands for a contact's or a thread's hash: both are tried).
    fn documented(s: &Samples) -> Vec<Vec<Key>> {
        let doc = include_str!("../../../../docs/architecture.md");
        let table = doc.split("## Data: one DynamoDB table").nth(1).expect("the data section");
        let fill = |text: &str, hash: &str| {
            text.replace("{shop}", s.shop.as_str())
                .replace("{checkout}", s.checkout.as_str())
                .replace("{cart}", s.cart.as_str())
                .replace("{step:03}", "007")
                .replace("{at}", &s.at.to_rfc3339())
                .replace("{id}", "r1")
                .replace("{webhook id}", s.webhook.as_str())
                .replace("{yyyy-mm}", "2026-06")
                .replace("{day}", &s.day.to_string())
                .replace("{minute}", "2026-06-01T12:00")
                .replace("{shard}", "3")
                .replace("{code}", "code1")
                .replace("{hash}", hash)
        };
        table
            .lines()
            .take_while(|line| !line.starts_with("Indexes"))
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let (pk, sk) = (cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?, cells.get(2)?.trim_matches('`'));
                Some(
                    [s.contact.as_str(), s.thread.as_str()]
                        .iter()
                        .map(|hash| Key { pk: fill(pk, hash), sk: fill(sk, hash) })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn every_key_the_adapter_writes_is_in_the_documented_table_and_back() {
        let s = samples();
        let written = every_kind(&s);
        let rows = documented(&s);
        assert_eq!(rows.len(), written.len(), "one documented row per kind of item: {rows:#?}");
        for row in &rows {
            assert!(row.iter().any(|key| written.contains(key)), "documented but never written: {row:?}");
        }
        for key in &written {
            assert!(rows.iter().any(|row| row.contains(key)), "written but not documented: {key:?}");
        }
    }

    #[test]
    fn a_shops_own_items_spread_over_the_index_and_an_owners_items_share_one_shard() {
        let s = samples();
        let days = (1..=28).map(|d| NaiveDate::from_ymd_opt(2026, 6, d).unwrap());
        let counters: BTreeSet<String> = days
            .flat_map(|day| (0..4).map(move |shard| (day, shard)))
            .map(|(day, shard)| shop_shard(&s.shop, super::super::SHOP_OWNER, &stats(&s.shop, day, shard)))
            .collect();
        assert_eq!(counters.len(), usize::from(SHOP_SHARDS), "a month of counters uses every shard");
        let owner = "CHK#chk1";
        let shards: BTreeSet<String> = [checkout(&s.shop, &s.checkout), message(&s.shop, &s.checkout, 1)]
            .iter()
            .map(|key| shop_shard(&s.shop, owner, key))
            .collect();
        assert_eq!(shards, BTreeSet::from([owner_shard(&s.shop, owner)]), "one query finds an owner's items");
        assert!(shop_shards(&s.shop).all(|shard| shard.starts_with("keys.myshopify.com#")));
    }

    #[test]
    fn checkout_partitions_read_back_and_due_times_sort_as_time() {
        let s = samples();
        let pk = checkout_partition(&s.shop, &s.checkout);
        assert_eq!(parse_checkout_partition(&pk), Some((s.shop.clone(), s.checkout.clone())));
        assert_eq!(parse_checkout_partition("CART#x#y"), None);
        let times = [s.at, s.at + chrono::Duration::milliseconds(5), s.at + chrono::Duration::hours(10)];
        let texts: Vec<String> = times.iter().map(|t| due_at(*t)).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert!(due_shard(&s.shop, &s.checkout) < DUE_SHARDS);
    }

    #[test]
    fn stats_ranges_cover_every_shard_of_the_days_and_nothing_else() {
        let s = samples();
        let (low, high) = stats_range(s.day, s.day);
        for shard in [0, 3, 255] {
            let sk = stats(&s.shop, s.day, shard).sk;
            assert!(low <= sk && sk <= high, "{sk} in {low}..={high}");
        }
        let next = stats(&s.shop, s.day.succ_opt().unwrap(), 0).sk;
        assert!(next > high, "the next day is outside");
    }
}
