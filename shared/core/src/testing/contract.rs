//! The storage contract: what every [`Store`] adapter must do, as plain async checks. This
//! crate's tests run them against [`MemoryStore`](super::MemoryStore); the integration tests run
//! the same checks against `DynamoStore` on the emulator, so the fake used by the use-case tests
//! cannot drift from the real table.
//!
//! Each check uses shops of its own, so that checks can share one table. A check panics with a
//! message naming the rule it found broken.

use super::ItemRef;
use crate::model::{
    ArmedCheck, Capture, CartSnapshot, CartToken, Channel, CheckoutRecord, CheckoutStatus, CheckoutToken,
    ConsentEvidence, ContactKey, DeliveryState, DiscountRecord, Email, Ending, InboundReply, MessageRecord,
    SealedSecret, ShopDomain, SmsThread, SmsThreadKey, StoredToken, WebhookId, sample_snapshot,
};
use crate::ports::{ClaimOutcome, DataOwner, PortError, Quota, Store};
use crate::rules::RecoverySettings;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use std::future::Future;

/// Tells when a stored item expires, as the adapter wrote it (DynamoDB: the `expires_at`
/// attribute). `None`: the item is absent or has no expiry.
pub trait ExpiryProbe: Sync {
    fn expires_at(&self, shop: &ShopDomain, item: ItemRef) -> impl Future<Output = Option<DateTime<Utc>>> + Send;
}

impl ExpiryProbe for super::MemoryStore {
    async fn expires_at(&self, shop: &ShopDomain, item: ItemRef) -> Option<DateTime<Utc>> {
        self.expiry_of(shop, &item)
    }
}

/// Every check, in turn; `prefix` makes the shops of this run unique (tables may be shared).
pub async fn run_all<S: Store, P: ExpiryProbe>(store: &S, probe: &P, prefix: &str) {
    let shop = |name: &str| ShopDomain::parse(&format!("{prefix}-{name}.myshopify.com")).unwrap();
    deliveries_are_claimed_once_per_shop(store, probe, &shop("deliveries"), &shop("deliveries-other")).await;
    webhook_deliveries_are_leased(store, probe, &shop("leases")).await;
    checkouts_are_versioned_and_scoped(store, probe, &shop("checkouts"), &shop("checkouts-other")).await;
    checkouts_are_found_by_cart_contact_and_armed(store, &shop("lookups")).await;
    newer_carts_win_and_captures_are_kept(store, probe, &shop("carts"), &shop("carts-other")).await;
    armed_checks_are_found_by_when_they_fell_due(store, &shop("due"), &shop("due-other")).await;
    orders_that_came_first_are_remembered(store, &shop("tombstones"), &shop("tombstones-other")).await;
    a_step_is_claimed_once_and_only_while_open(store, probe, &shop("messages")).await;
    concurrent_claims_have_one_winner(store, &shop("claims")).await;
    claims_know_their_owner_and_released_steps(store, &shop("owners")).await;
    discounts_are_claimed_once(store, probe, &shop("discounts")).await;
    short_links_threads_and_replies(store, probe, &shop("conversations")).await;
    contacts_and_shop_state_survive_concurrent_updates(store, probe, &shop("contacts"), &shop("contacts-other")).await;
    settings_have_optimistic_versions(store, &shop("settings"), &shop("settings-other")).await;
    sms_budget_is_never_overspent(store, &shop("budget")).await;
    stats_add_up_over_days_and_shards(store, &shop("stats"), &shop("stats-other")).await;
    tokens_are_kept_per_shop(store, &shop("tokens"), &shop("tokens-other")).await;
    erasure_removes_one_owner_or_one_shop(store, &shop("erasure"), &shop("erasure-other")).await;
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn token(text: &str) -> CheckoutToken {
    CheckoutToken::new(text).unwrap()
}

fn cart(text: &str) -> CartToken {
    CartToken::new(text).unwrap()
}

/// A new open checkout record of `shop`, with its own token, cart and email.
pub fn checkout(shop: &ShopDomain, name: &str, minutes: i64) -> CheckoutRecord {
    let mut snapshot = sample_snapshot(at(minutes));
    snapshot.token = token(name);
    snapshot.cart_token = Some(cart(&format!("{name}-cart")));
    snapshot.contact.email = Email::parse(&format!("{name}@example.com")).ok();
    CheckoutRecord::new(shop.clone(), snapshot)
}

fn message(step: u32) -> MessageRecord {
    MessageRecord::claimed(step, Channel::Email, at(60))
}

fn capture(email: &str) -> Capture {
    Capture {
        email: Email::parse(email).ok(),
        phone: None,
        consent: ConsentEvidence { source: "exit_intent".into(), at: at(5), text: "Email me".into(), page: None },
    }
}

/// Saves a new record and returns it as stored (version 1).
async fn insert<S: Store>(store: &S, record: &CheckoutRecord) -> CheckoutRecord {
    store.save_checkout(record, at(90 * 24 * 60)).await.expect("a new checkout is saved");
    store.load_checkout(&record.shop, &record.snapshot.token).await.unwrap().expect("a saved checkout loads")
}

async fn deliveries_are_claimed_once_per_shop<S: Store, P: ExpiryProbe>(
    store: &S,
    probe: &P,
    shop: &ShopDomain,
    other: &ShopDomain,
) {
    let id = WebhookId::new("delivery-1").unwrap();
    assert!(store.claim_delivery(shop, &id, at(10)).await.unwrap(), "a new delivery is claimed");
    assert!(!store.claim_delivery(shop, &id, at(10)).await.unwrap(), "a delivery is claimed once");
    assert!(store.claim_delivery(other, &id, at(10)).await.unwrap(), "delivery ids are per shop");
    assert_eq!(probe.expires_at(shop, ItemRef::Delivery(id.clone())).await, Some(at(10)), "delivery expiry as given");
    store.release_delivery(shop, &id).await.unwrap();
    assert!(store.claim_delivery(shop, &id, at(10)).await.unwrap(), "a released delivery is claimed again");
}

async fn webhook_deliveries_are_leased<S: Store, P: ExpiryProbe>(store: &S, probe: &P, shop: &ShopDomain) {
    use crate::ports::DeliveryClaim::{Done, InProgress, Started};
    let id = WebhookId::new("leased-1").unwrap();
    let (lease, keep) = (at(1), at(10_000));
    assert_eq!(store.begin_delivery(shop, &id, "a", at(0), lease, keep).await.unwrap(), Started, "a new delivery");
    assert_eq!(store.begin_delivery(shop, &id, "b", at(0), lease, keep).await.unwrap(), InProgress, "while leased");
    assert_eq!(
        store.begin_delivery(shop, &id, "a", at(0), lease, keep).await.unwrap(),
        Started,
        "the lease's own owner, repeating a write whose answer was lost"
    );
    assert_eq!(probe.expires_at(shop, ItemRef::Delivery(id.clone())).await, Some(keep), "kept as asked");
    let later = at(2);
    assert_eq!(
        store.begin_delivery(shop, &id, "c", later, later + Duration::minutes(1), keep).await.unwrap(),
        Started,
        "an attempt that never finished is taken over once its lease ran out"
    );
    store.finish_delivery(shop, &id, at(20_000)).await.unwrap();
    assert_eq!(
        store.begin_delivery(shop, &id, "c", at(500), at(501), keep).await.unwrap(),
        Done,
        "finished: a duplicate"
    );
    assert_eq!(probe.expires_at(shop, ItemRef::Delivery(id.clone())).await, Some(at(20_000)));
    let erased = WebhookId::new("erased-meanwhile").unwrap();
    store.finish_delivery(shop, &erased, keep).await.unwrap();
    assert_eq!(probe.expires_at(shop, ItemRef::Delivery(erased)).await, None, "finishing never recreates a lease");
    let claimed = WebhookId::new("claimed-once").unwrap();
    assert!(store.claim_delivery(shop, &claimed, keep).await.unwrap());
    assert_eq!(
        store.begin_delivery(shop, &claimed, "d", at(0), lease, keep).await.unwrap(),
        Done,
        "claimed once: done"
    );
}

async fn checkouts_are_versioned_and_scoped<S: Store, P: ExpiryProbe>(
    store: &S,
    probe: &P,
    shop: &ShopDomain,
    other: &ShopDomain,
) {
    let record = checkout(shop, "versioned", 0);
    assert_eq!(store.load_checkout(shop, &record.snapshot.token).await.unwrap(), None, "absent until saved");
    let stored = insert(store, &record).await;
    assert_eq!(stored.version, 1, "versions start at 1");
    assert_eq!(CheckoutRecord { version: 0, ..stored.clone() }, record, "a checkout loads as saved");
    assert_eq!(store.save_checkout(&record, at(1)).await, Err(PortError::Conflict), "version 0 only while absent");
    let mut changed = stored.clone();
    changed.status = CheckoutStatus::Converted;
    store.save_checkout(&changed, at(2)).await.expect("the read version may write");
    assert_eq!(store.save_checkout(&stored, at(3)).await, Err(PortError::Conflict), "a stale version may not write");
    let reloaded = store.load_checkout(shop, &record.snapshot.token).await.unwrap().unwrap();
    assert_eq!((reloaded.version, reloaded.status), (2, CheckoutStatus::Converted), "the winner's write is kept");
    assert_eq!(probe.expires_at(shop, ItemRef::Checkout(record.snapshot.token.clone())).await, Some(at(2)));
    assert_eq!(store.load_checkout(other, &record.snapshot.token).await.unwrap(), None, "checkouts are per shop");
}

async fn checkouts_are_found_by_cart_contact_and_armed<S: Store>(store: &S, shop: &ShopDomain) {
    let older = checkout(shop, "older", 0);
    let mut newer = checkout(shop, "newer", 30);
    newer.snapshot.contact.email = older.snapshot.contact.email.clone();
    newer.armed = Some(ArmedCheck { step: 0, generation: 0, at: at(90) });
    insert(store, &older).await;
    let stored_newer = insert(store, &newer).await;
    let contact = older.contact_key().unwrap();
    let found = store.find_open_checkout_by_contact(shop, &contact).await.unwrap().unwrap();
    assert_eq!(found.snapshot.token, newer.snapshot.token, "the most recently active open checkout of a contact");
    let mut closed = stored_newer.clone();
    closed.status = CheckoutStatus::Completed;
    store.save_checkout(&closed, at(100)).await.unwrap();
    let found = store.find_open_checkout_by_contact(shop, &contact).await.unwrap().unwrap();
    assert_eq!(found.snapshot.token, older.snapshot.token, "closed checkouts are passed over");
    let by_cart = store.find_checkout_by_cart(shop, older.snapshot.cart_token.as_ref().unwrap()).await.unwrap();
    assert_eq!(by_cart.map(|r| r.snapshot.token), Some(older.snapshot.token.clone()), "found by cart token");
    assert_eq!(store.find_checkout_by_cart(shop, &cart("nobody")).await.unwrap(), None);
    let armed: Vec<_> = store.armed_checkouts(shop).await.unwrap().into_iter().map(|r| r.snapshot.token).collect();
    assert_eq!(armed, vec![newer.snapshot.token.clone()], "only armed checkouts of the shop");
    let tokens = |records: Vec<CheckoutRecord>| records.into_iter().map(|r| r.snapshot.token).collect::<Vec<_>>();
    let recent = tokens(store.recent_checkouts(shop, at(10), 10).await.unwrap());
    assert_eq!(recent, vec![newer.snapshot.token.clone()], "created since, of this shop only");
    assert_eq!(store.recent_checkouts(shop, at(-10), 1).await.unwrap().len(), 1, "at most the limit");
}

/// The sweep's view: armed checkouts of every shop by due time, across days; the unarmed and
/// the disarmed are not in it.
async fn armed_checks_are_found_by_when_they_fell_due<S: Store>(store: &S, shop: &ShopDomain, other: &ShopDomain) {
    let armed_at = |record: &mut CheckoutRecord, minutes: i64| {
        record.armed = Some(ArmedCheck { step: 0, generation: 0, at: at(minutes) });
    };
    let mut early = checkout(shop, "due-early", 0);
    armed_at(&mut early, 10);
    let mut late = checkout(other, "due-late", 0);
    armed_at(&mut late, 60 * 30); // the next day
    let mut outside = checkout(shop, "due-outside", 0);
    armed_at(&mut outside, 60 * 60);
    let unarmed = checkout(shop, "due-unarmed", 0);
    let mut disarmed = checkout(other, "due-disarmed", 0);
    armed_at(&mut disarmed, 20);
    for record in [&early, &late, &outside, &unarmed, &disarmed] {
        insert(store, record).await;
    }
    let mut stored = store.load_checkout(other, &disarmed.snapshot.token).await.unwrap().unwrap();
    stored.armed = None;
    store.save_checkout(&stored, at(5000)).await.unwrap();
    let ours = |found: Vec<(ShopDomain, CheckoutToken)>| -> Vec<String> {
        found.into_iter().filter(|(s, _)| s == shop || s == other).map(|(_, t)| t.as_str().to_owned()).collect()
    };
    let mut found = ours(store.checkouts_due_between(at(0), at(60 * 40)).await.unwrap());
    found.sort();
    assert_eq!(found, ["due-early", "due-late"], "armed and due in the range, of every shop");
    assert_eq!(
        ours(store.checkouts_due_between(at(11), at(60 * 30)).await.unwrap()),
        Vec::<String>::new(),
        "[from, to)"
    );
}

async fn newer_carts_win_and_captures_are_kept<S: Store, P: ExpiryProbe>(
    store: &S,
    probe: &P,
    shop: &ShopDomain,
    other: &ShopDomain,
) {
    let token = cart("cart-1");
    let snapshot = |minutes: i64| CartSnapshot {
        token: token.clone(),
        line_items: sample_snapshot(at(0)).line_items,
        updated_at: at(minutes),
    };
    assert_eq!(store.load_cart(shop, &token).await.unwrap(), None);
    assert!(store.save_cart(shop, &snapshot(10), at(1000)).await.unwrap(), "a first cart is stored");
    assert!(!store.save_cart(shop, &snapshot(5), at(1001)).await.unwrap(), "an older cart is refused");
    assert!(!store.save_cart(shop, &snapshot(10), at(1002)).await.unwrap(), "an equally old cart is refused");
    assert!(store.save_cart(shop, &snapshot(20), at(1003)).await.unwrap(), "a newer cart wins");
    assert_eq!(store.load_cart(shop, &token).await.unwrap().unwrap().updated_at, at(20));
    assert_eq!(probe.expires_at(shop, ItemRef::Cart(token.clone())).await, Some(at(1003)), "cart expiry as given");
    assert_eq!(store.load_cart(other, &token).await.unwrap(), None, "carts are per shop");

    assert_eq!(store.load_capture(shop, &token).await.unwrap(), None);
    store.save_capture(shop, &token, &capture("first@example.com"), at(2000)).await.unwrap();
    store.save_capture(shop, &token, &capture("second@example.com"), at(2001)).await.unwrap();
    let kept = store.load_capture(shop, &token).await.unwrap().unwrap();
    assert_eq!(kept.email.as_deref(), Some("second@example.com"), "a capture replaces the previous one");
    assert_eq!(kept.consent.text, "Email me", "the consent evidence is kept");
    assert_eq!(probe.expires_at(shop, ItemRef::Capture(token.clone())).await, Some(at(2001)));
    assert_eq!(store.load_capture(other, &token).await.unwrap(), None, "captures are per shop");
}

async fn orders_that_came_first_are_remembered<S: Store>(store: &S, shop: &ShopDomain, other: &ShopDomain) {
    use crate::ports::Tombstone;
    let conversion = crate::model::Conversion {
        order_id: crate::model::OrderId::new("order-1").unwrap(),
        at: at(0),
        total: sample_snapshot(at(0)).total,
        recovered: false,
    };
    let by_checkout = Tombstone::Checkout(token("early"));
    let by_cart = Tombstone::Cart(cart("early-cart"));
    assert_eq!(store.tombstone(shop, &by_checkout).await.unwrap(), None);
    let order = Ending::Order(conversion);
    let deleted = Ending::Deleted { at: at(50) };
    store.leave_tombstone(shop, &by_checkout, &deleted, at(100)).await.unwrap();
    assert_eq!(store.tombstone(shop, &by_checkout).await.unwrap(), Some(deleted), "a delete that came first");
    store.leave_tombstone(shop, &by_checkout, &order, at(100)).await.unwrap();
    store.leave_tombstone(shop, &by_cart, &order, at(100)).await.unwrap();
    assert_eq!(store.tombstone(shop, &by_checkout).await.unwrap(), Some(order.clone()));
    assert_eq!(store.tombstone(shop, &by_cart).await.unwrap(), Some(order));
    assert_eq!(store.tombstone(other, &by_checkout).await.unwrap(), None, "per shop");
    store.forget(shop, &DataOwner::Checkout(token("early"))).await.unwrap();
    assert_eq!(store.tombstone(shop, &by_checkout).await.unwrap(), None, "erased with its checkout");
}

async fn a_step_is_claimed_once_and_only_while_open<S: Store, P: ExpiryProbe>(store: &S, probe: &P, shop: &ShopDomain) {
    let record = insert(store, &checkout(shop, "claimed", 0)).await;
    let chk = &record.snapshot.token;
    assert_eq!(store.claim_message(shop, chk, &message(1), at(500)).await.unwrap(), ClaimOutcome::Claimed);
    assert_eq!(store.claim_message(shop, chk, &message(1), at(500)).await.unwrap(), ClaimOutcome::AlreadyClaimed);
    assert_eq!(store.claim_message(shop, chk, &message(0), at(501)).await.unwrap(), ClaimOutcome::Claimed);
    assert_eq!(probe.expires_at(shop, ItemRef::Message(chk.clone(), 1)).await, Some(at(500)), "message expiry");
    let steps: Vec<u32> = store.messages(shop, chk).await.unwrap().iter().map(|m| m.step).collect();
    assert_eq!(steps, vec![0, 1], "messages in step order");

    let mut sent = message(1);
    sent.sent_at = Some(at(61));
    sent.provider_id = Some("provider-1".into());
    store.update_message(shop, chk, &sent, at(502)).await.unwrap();
    assert!(store.messages(shop, chk).await.unwrap().contains(&sent), "an update is kept");
    assert!(store.record_click(shop, chk, 1, at(70)).await.unwrap(), "the first click counts");
    assert!(!store.record_click(shop, chk, 1, at(71)).await.unwrap(), "a second click does not");
    assert!(!store.record_click(shop, chk, 7, at(71)).await.unwrap(), "a click on an unsent step does not");
    let clicked = store.messages(shop, chk).await.unwrap().into_iter().find(|m| m.step == 1).unwrap();
    assert_eq!(clicked.clicked_at, Some(at(70)));

    let mut closed = store.load_checkout(shop, chk).await.unwrap().unwrap();
    closed.status = CheckoutStatus::Converted;
    store.save_checkout(&closed, at(600)).await.unwrap();
    assert_eq!(
        store.claim_message(shop, chk, &message(2), at(500)).await.unwrap(),
        ClaimOutcome::CheckoutClosed,
        "no claim once the checkout is closed"
    );
    assert_eq!(
        store.claim_message(shop, &token("never-stored"), &message(0), at(500)).await.unwrap(),
        ClaimOutcome::CheckoutClosed,
        "no claim for a checkout that does not exist"
    );
    assert_eq!(store.messages(shop, chk).await.unwrap().len(), 2, "a refused claim writes nothing");
}

/// A claim repeated by its own owner (an SDK retry after a lost answer) is recognised as the
/// claim it is; anyone else's is refused; a released step can be claimed again, but only while
/// the checkout is open.
async fn claims_know_their_owner_and_released_steps<S: Store>(store: &S, shop: &ShopDomain) {
    let record = insert(store, &checkout(shop, "owned", 0)).await;
    let chk = &record.snapshot.token;
    let first = MessageRecord { owner: "check-a".into(), ..message(0) };
    assert_eq!(store.claim_message(shop, chk, &first, at(500)).await.unwrap(), ClaimOutcome::Claimed);
    assert_eq!(
        store.claim_message(shop, chk, &first, at(500)).await.unwrap(),
        ClaimOutcome::Claimed,
        "the same owner's write, repeated, is its own claim"
    );
    let rival = MessageRecord { owner: "check-b".into(), ..message(0) };
    assert_eq!(store.claim_message(shop, chk, &rival, at(500)).await.unwrap(), ClaimOutcome::AlreadyClaimed);
    let released = MessageRecord {
        state: DeliveryState::Released,
        retry_at: Some(at(61)),
        failure: Some("throttled".into()),
        ..first.clone()
    };
    store.update_message(shop, chk, &released, at(500)).await.unwrap();
    let racers: Vec<MessageRecord> =
        (0..4).map(|i| MessageRecord { owner: format!("check-c{i}"), attempt: 2, ..message(0) }).collect();
    let outcomes = futures_join_all(racers.iter().map(|racer| store.claim_message(shop, chk, racer, at(500)))).await;
    let winners: Vec<usize> = (0..4).filter(|i| matches!(outcomes[*i], Ok(ClaimOutcome::Claimed))).collect();
    assert_eq!(winners.len(), 1, "a released step is free again, for one of four racers: {outcomes:?}");
    let second = racers[winners[0]].clone();
    assert_eq!(store.messages(shop, chk).await.unwrap(), vec![second.clone()], "the new attempt replaced the old");
    assert_eq!(
        store.claim_message(shop, chk, &rival, at(500)).await.unwrap(),
        ClaimOutcome::AlreadyClaimed,
        "claimed again, held again"
    );
    store
        .update_message(shop, chk, &MessageRecord { state: DeliveryState::Released, ..second }, at(500))
        .await
        .unwrap();
    let mut closed = store.load_checkout(shop, chk).await.unwrap().unwrap();
    closed.status = CheckoutStatus::Converted;
    store.save_checkout(&closed, at(900)).await.unwrap();
    let third = MessageRecord { owner: "check-d".into(), attempt: 3, ..message(0) };
    assert_eq!(
        store.claim_message(shop, chk, &third, at(500)).await.unwrap(),
        ClaimOutcome::CheckoutClosed,
        "a released step of a closed checkout stays unsent"
    );
}

async fn concurrent_claims_have_one_winner<S: Store>(store: &S, shop: &ShopDomain) {
    let record = insert(store, &checkout(shop, "raced", 0)).await;
    let chk = &record.snapshot.token;
    let claim = message(0);
    let claims = (0..8).map(|_| store.claim_message(shop, chk, &claim, at(500)));
    let outcomes = futures_join_all(claims).await;
    let winners = outcomes.iter().filter(|o| matches!(o, Ok(ClaimOutcome::Claimed))).count();
    assert_eq!(winners, 1, "eight racing claims, one winner: {outcomes:?}");
}

async fn discounts_are_claimed_once<S: Store, P: ExpiryProbe>(store: &S, probe: &P, shop: &ShopDomain) {
    let chk = token("discounted");
    let pending =
        DiscountRecord { step: 2, code: "BACK-ABCDEFGHIJ".into(), percent: 10, ends_at: at(100), platform_id: None };
    assert_eq!(store.claim_discount(shop, &chk, &pending, at(300)).await.unwrap(), None, "the first claim wins");
    let rival = DiscountRecord { code: "BACK-OTHER00000".into(), ..pending.clone() };
    assert_eq!(
        store.claim_discount(shop, &chk, &rival, at(300)).await.unwrap(),
        Some(pending.clone()),
        "then it is returned"
    );
    let created = DiscountRecord { platform_id: Some("gid://shopify/DiscountCodeNode/1".into()), ..pending };
    store.save_discount(shop, &chk, &created, at(301)).await.unwrap();
    assert_eq!(store.claim_discount(shop, &chk, &rival, at(300)).await.unwrap(), Some(created), "saved over");
    assert_eq!(probe.expires_at(shop, ItemRef::Discount(chk, 2)).await, Some(at(301)), "discount expiry as given");
}

async fn short_links_threads_and_replies<S: Store, P: ExpiryProbe>(store: &S, probe: &P, shop: &ShopDomain) {
    let chk = token("texted");
    let code = format!("{}-code", shop.as_str().len());
    assert_eq!(store.load_short_link(&code).await.unwrap(), None);
    store.save_short_link(shop, &chk, &code, "signed.token.here", at(400)).await.unwrap();
    assert_eq!(store.load_short_link(&code).await.unwrap().as_deref(), Some("signed.token.here"));
    assert_eq!(probe.expires_at(shop, ItemRef::ShortLink(code)).await, Some(at(400)), "short link expiry");

    let thread = SmsThreadKey::new(Some(shop.as_str()), "+12125550142");
    assert_eq!(store.sms_threads(&thread).await.unwrap(), vec![]);
    let ours = SmsThread { shop: shop.clone(), checkout: chk.clone(), texted_at: at(10) };
    store.save_sms_thread(&thread, &ours, at(400)).await.unwrap();
    // A shared number: another shop texts the same shopper later; each shop keeps its own thread.
    let neighbour =
        ShopDomain::parse(&format!("{}-neighbour.myshopify.com", shop.as_str().trim_end_matches(".myshopify.com")))
            .unwrap();
    let theirs = SmsThread { shop: neighbour.clone(), checkout: token("their-cart"), texted_at: at(20) };
    store.save_sms_thread(&thread, &theirs, at(400)).await.unwrap();
    assert_eq!(store.sms_threads(&thread).await.unwrap(), vec![theirs.clone(), ours.clone()], "most recent first");
    let again = SmsThread { texted_at: at(30), ..ours.clone() };
    store.save_sms_thread(&thread, &again, at(400)).await.unwrap();
    assert_eq!(store.sms_threads(&thread).await.unwrap(), vec![again, theirs], "one per shop, replaced");
    store.forget(&neighbour, &DataOwner::Checkout(token("their-cart"))).await.unwrap();
    assert_eq!(store.sms_threads(&thread).await.unwrap().len(), 1, "erased with its checkout");

    let reply = |id: &str, minutes: i64| InboundReply {
        id: id.into(),
        at: at(minutes),
        channel: Channel::Sms,
        body: format!("reply {id}"),
    };
    store.save_reply(shop, &chk, &reply("b", 20), at(900)).await.unwrap();
    store.save_reply(shop, &chk, &reply("a", 10), at(900)).await.unwrap();
    let ids: Vec<String> = store.replies(shop, &chk).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec!["a", "b"], "replies oldest first");
}

async fn contacts_and_shop_state_survive_concurrent_updates<S: Store, P: ExpiryProbe>(
    store: &S,
    probe: &P,
    shop: &ShopDomain,
    other: &ShopDomain,
) {
    let key = ContactKey::for_email(shop, "racer@example.com");
    assert_eq!(store.contact(shop, &key).await.unwrap(), Default::default(), "an unknown contact is the default");
    let updates = (0..6).map(|i| {
        store.update_contact(shop, &key, at(9_000), move |state| {
            state.recent_sends.push(at(i));
            true
        })
    });
    for result in futures_join_all(updates).await {
        result.expect("a contact update wins eventually");
    }
    assert_eq!(store.contact(shop, &key).await.unwrap().recent_sends.len(), 6, "no concurrent update is lost");
    assert_eq!(probe.expires_at(shop, ItemRef::Contact(key.clone())).await, Some(at(9_000)), "a contact expires");
    store.update_contact(shop, &key, at(9_000), |state| state.recent_sends.pop().is_some() && false).await.unwrap();
    assert_eq!(store.contact(shop, &key).await.unwrap().recent_sends.len(), 6, "nothing written when unchanged");
    let other_key = ContactKey::for_email(other, "racer@example.com");
    assert!(store.contact(other, &other_key).await.unwrap().recent_sends.is_empty(), "contacts are per shop");

    let uninstalled = Some(at(5));
    store.update_shop_state(shop, |state| state.uninstalled_at.replace(at(5)).is_none()).await.unwrap();
    assert_eq!(store.shop_state(shop).await.unwrap().uninstalled_at, uninstalled);
    assert_eq!(store.shop_state(other).await.unwrap().uninstalled_at, None, "shop state is per shop");
}

async fn settings_have_optimistic_versions<S: Store>(store: &S, shop: &ShopDomain, other: &ShopDomain) {
    assert_eq!(store.load_settings(shop).await.unwrap(), None, "no settings until saved");
    let mut settings = RecoverySettings::default();
    assert_eq!(store.save_settings(shop, &settings, 0).await.unwrap(), 1, "the first save is version 1");
    assert_eq!(store.save_settings(shop, &settings, 0).await, Err(PortError::Conflict), "0 only while absent");
    settings.policies.holdout_percent = 20;
    assert_eq!(store.save_settings(shop, &settings, 1).await.unwrap(), 2);
    assert_eq!(store.save_settings(shop, &RecoverySettings::default(), 1).await, Err(PortError::Conflict), "stale");
    let stored = store.load_settings(shop).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.settings), (2, settings), "the winner's settings are kept");
    assert_eq!(store.load_settings(other).await.unwrap(), None, "settings are per shop");
}

async fn sms_budget_is_never_overspent<S: Store>(store: &S, shop: &ShopDomain) {
    let june = Quota::SmsMonth("2026-06".into());
    let takes = (0..5).map(|_| store.reserve(shop, &june, 3, at(9_000)));
    let granted = futures_join_all(takes).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(granted, 3, "five racing takes from a budget of three");
    assert!(store.reserve(shop, &Quota::SmsMonth("2026-07".into()), 3, at(9_000)).await.unwrap(), "per month");
    let day = Quota::SendsDay(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    let takes = (0..4).map(|_| store.reserve(shop, &day, 2, at(3_000)));
    let granted = futures_join_all(takes).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(granted, 2, "the daily cap holds under racing takes, apart from the SMS budget");
    let next = Quota::SendsDay(NaiveDate::from_ymd_opt(2026, 6, 2).unwrap());
    assert!(store.reserve(shop, &next, 2, at(3_000)).await.unwrap(), "each day has its own cap");
}

async fn stats_add_up_over_days_and_shards<S: Store>(store: &S, shop: &ShopDomain, other: &ShopDomain) {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
    let one = |name: &str, amount: i64| vec![(name.to_owned(), amount)];
    store.add_to_stats(shop, day(1), 0, &one("sent.step0.email", 2)).await.unwrap();
    store.add_to_stats(shop, day(1), 3, &one("sent.step0.email", 1)).await.unwrap();
    store.add_to_stats(shop, day(2), 1, &[("sent.step0.email".into(), 1), ("clicks.step0".into(), 1)]).await.unwrap();
    store.add_to_stats(shop, day(3), 0, &one("sent.step0.email", 100)).await.unwrap();
    store.add_to_stats(other, day(2), 0, &one("sent.step0.email", 1000)).await.unwrap();
    store.add_to_stats(shop, day(2), 0, &[]).await.unwrap();
    let totals = store.stats(shop, day(1), day(2)).await.unwrap();
    assert_eq!(totals.get("sent.step0.email"), Some(&4), "summed over days and shards, within the range: {totals:?}");
    assert_eq!(totals.get("clicks.step0"), Some(&1));
    assert_eq!(store.stats(shop, day(3), day(3)).await.unwrap().get("sent.step0.email"), Some(&100));
}

async fn tokens_are_kept_per_shop<S: Store>(store: &S, shop: &ShopDomain, other: &ShopDomain) {
    let sealed = |text: &str| SealedSecret {
        key_id: "k".into(),
        wrapped_key: "w".into(),
        nonce: "n".into(),
        ciphertext: text.into(),
    };
    let token = StoredToken {
        access: sealed("access"),
        access_expires_at: Some(at(60)),
        refresh: Some(sealed("refresh")),
        refresh_expires_at: Some(at(90 * 24 * 60)),
    };
    store.save_token(shop, &token).await.unwrap();
    assert_eq!(store.load_token(shop).await.unwrap(), Some(token), "access, refresh and both expiries");
    assert_eq!(store.load_token(other).await.unwrap(), None, "tokens are per shop");
    store.delete_token(shop).await.unwrap();
    assert_eq!(store.load_token(shop).await.unwrap(), None, "a deleted token is gone");
}

async fn erasure_removes_one_owner_or_one_shop<S: Store>(store: &S, shop: &ShopDomain, other: &ShopDomain) {
    // One customer with a checkout (and everything under it) and a captured cart; another
    // customer; and enough items to take several delete batches.
    let target = insert(store, &checkout(shop, "target", 0)).await;
    let chk = target.snapshot.token.clone();
    store.claim_message(shop, &chk, &message(0), at(500)).await.unwrap();
    let discount =
        DiscountRecord { step: 0, code: "BACK-TARGET0000".into(), percent: 5, ends_at: at(9), platform_id: None };
    store.claim_discount(shop, &chk, &discount, at(500)).await.unwrap();
    let reply = InboundReply { id: "r1".into(), at: at(3), channel: Channel::Sms, body: "too pricey".into() };
    store.save_reply(shop, &chk, &reply, at(500)).await.unwrap();
    let address = target.snapshot.contact.email.clone().unwrap();
    let captured = cart("target-captured");
    store.save_capture(shop, &captured, &capture(&address), at(500)).await.unwrap();
    let keeper = insert(store, &checkout(shop, "keeper", 0)).await;
    for i in 0..60 {
        insert(store, &checkout(shop, &format!("bulk-{i}"), i)).await;
    }
    insert(store, &checkout(other, "target", 0)).await;

    let contact = ContactKey::for_email(shop, &address);
    let mut owners = store.customer_data(shop, &[contact]).await.unwrap();
    owners.sort();
    assert_eq!(owners, vec![DataOwner::Checkout(chk.clone()), DataOwner::Cart(captured.clone())], "found by contact");

    let removed = store.forget(shop, &DataOwner::Checkout(chk.clone())).await.unwrap();
    assert_eq!(removed, 4, "the checkout, its message, discount and reply");
    assert_eq!(store.load_checkout(shop, &chk).await.unwrap(), None);
    assert!(store.messages(shop, &chk).await.unwrap().is_empty());
    assert!(store.replies(shop, &chk).await.unwrap().is_empty());
    store.forget(shop, &DataOwner::Cart(captured.clone())).await.unwrap();
    assert_eq!(store.load_capture(shop, &captured).await.unwrap(), None);
    assert!(store.load_checkout(shop, &keeper.snapshot.token).await.unwrap().is_some(), "another customer is kept");
    assert!(store.load_checkout(other, &chk).await.unwrap().is_some(), "another shop's same token is kept");

    let mut removed = 0;
    let mut batches = 0;
    loop {
        let batch = store.forget_shop(shop, 25).await.unwrap();
        assert!(batch.deleted <= 25, "a batch keeps to its limit");
        removed += batch.deleted;
        batches += 1;
        if !batch.more {
            break;
        }
    }
    assert_eq!(removed, 61, "every remaining item of the shop");
    assert!(batches >= 3, "in resumable batches: {batches}");
    assert_eq!(store.load_checkout(shop, &keeper.snapshot.token).await.unwrap(), None);
    assert!(store.load_checkout(other, &chk).await.unwrap().is_some(), "redacting one shop keeps the other");
}

/// Polls futures concurrently on the caller's executor, without a runtime dependency.
async fn futures_join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    use std::pin::Pin;
    use std::task::Poll;
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut all_done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done { Poll::Ready(outputs.iter_mut().map(|o| o.take().unwrap()).collect()) } else { Poll::Pending }
    })
    .await
}
