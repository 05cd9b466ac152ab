//! The app's lifecycle and the mandatory privacy webhooks: `app/uninstalled` stops every sequence
//! and destroys the token; `shop/redact` deletes everything held for the shop; `customers/redact`
//! deletes a customer's checkouts, messages, replies, captures and contact state (matched by email
//! and phone); `customers/data_request` gathers the same as JSON and emails it to the shop.

use super::{Ports, UseCaseError, count_by, disarm, update_checkout};
use crate::model::{Capture, CheckoutRecord, ContactKey, ContactState, InboundReply, MessageRecord, ShopDomain};
use crate::platform::CustomerRef;
use crate::ports::{
    Carts, Checkouts, Clock, Contacts, Conversations, DataOwner, EmailSender, Erasure, Job, JobQueue, MessageLog,
    OutgoingEmail, PortError, PushSender, Scheduler, Shops, Stats, Store, Tokens,
};
use serde::Serialize;
use std::collections::BTreeSet;

/// What exporting a customer's data reads: checkouts and what hangs off them, carts, contacts.
pub trait ExportPorts: Ports<Store: Checkouts + Erasure + MessageLog + Conversations + Carts + Contacts> {}
impl<P: Ports<Store: Checkouts + Erasure + MessageLog + Conversations + Carts + Contacts>> ExportPorts for P {}

/// How many items one run of a job deletes (or checkouts it disarms) before it queues the rest:
/// a few seconds of work, far inside the function's timeout.
pub const JOB_BATCH: usize = 1000;

/// Marks the shop uninstalled (every check stops from now on) and destroys the token at once;
/// the schedules still armed are deleted by a [`Job::DisarmShop`] in batches.
pub async fn uninstall<P: Ports<Store: Shops + Tokens + Stats, Jobs: JobQueue>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<(), UseCaseError> {
    let store = ports.store();
    let now = ports.clock().now();
    store
        .update_shop_state(shop, |state| {
            // The installation (its contact address) stays until shop/redact: a customer data
            // request after an uninstall is still answered.
            state.uninstalled_at = Some(now);
            // The push-registration key dies with the installation.
            state.push_key_generation += 1;
            true
        })
        .await?;
    store.delete_token(shop).await?;
    ports.jobs().enqueue(&Job::DisarmShop { shop: shop.clone() }).await?;
    count_by(ports, shop, "uninstall", &[("uninstalls".to_owned(), 1)]).await?;
    tracing::info!(%shop, "app uninstalled");
    Ok(())
}

/// What a job run needs: every storage role, the scheduler, email and push (exports, endpoints),
/// and the queue to put the rest of a job back on.
pub trait JobPorts:
    Ports<Store: Store, Scheduler: Scheduler, Messenger: EmailSender + PushSender, Jobs: JobQueue>
{
}
impl<P> JobPorts for P where
    P: Ports<Store: Store, Scheduler: Scheduler, Messenger: EmailSender + PushSender, Jobs: JobQueue>
{
}

/// What one run of a job did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRun {
    /// Items deleted or checkouts disarmed in this run.
    pub done: usize,
    /// Whether the rest of the job was queued again.
    pub continues: bool,
}

/// Runs one batch of a job; what is left is queued again (so a shop with 100,000 checkouts is
/// redacted in a hundred short runs, each resumable after a crash).
pub async fn run_job<P: JobPorts>(ports: &P, job: &Job) -> Result<JobRun, UseCaseError> {
    let run = match job {
        // Schedules first, then push devices at the push service, then every item.
        Job::RedactShop { shop } => {
            let disarmed = disarm_batch(ports, shop).await?;
            let devices = if disarmed.continues { disarmed } else { forget_devices_batch(ports, shop).await? };
            if devices.continues {
                devices
            } else {
                let erased = ports.store().forget_shop(shop, JOB_BATCH).await?;
                JobRun { done: devices.done + erased.deleted, continues: erased.more }
            }
        }
        Job::DisarmShop { shop } => disarm_batch(ports, shop).await?,
        Job::RedactCustomer { shop, customer } => {
            JobRun { done: redact_customer(ports, shop, customer).await?, continues: false }
        }
        Job::ExportCustomer { shop, customer, request_id } => {
            send_customer_export(ports, shop, customer, request_id).await?;
            JobRun { done: 1, continues: false }
        }
    };
    if run.continues {
        ports.jobs().enqueue(job).await?;
    }
    tracing::info!(shop = %job.shop(), ?run, "job batch done");
    Ok(run)
}

/// Deletes the push endpoints of up to [`JOB_BATCH`] of a shop's contacts at the push service,
/// and forgets them (so the next batch finds the next contacts).
async fn forget_devices_batch<P: JobPorts>(ports: &P, shop: &ShopDomain) -> Result<JobRun, UseCaseError> {
    let contacts = ports.store().contacts_with_devices(shop, JOB_BATCH).await?;
    for key in &contacts {
        delete_devices(ports, shop, key).await?;
        let expires_at = ports.clock().now() + super::CONTACT_TTL;
        ports
            .store()
            .update_contact(shop, key, expires_at, |state| !std::mem::take(&mut state.push_endpoints).is_empty())
            .await?;
    }
    Ok(JobRun { done: contacts.len(), continues: contacts.len() >= JOB_BATCH })
}

/// Deletes a contact's push endpoints at the push service (one already gone is fine).
async fn delete_devices<P: Ports<Store: Contacts, Messenger: PushSender>>(
    ports: &P,
    shop: &ShopDomain,
    key: &ContactKey,
) -> Result<(), UseCaseError> {
    for device in ports.store().contact(shop, key).await?.push_endpoints {
        match ports.messenger().delete_device(&device.arn).await {
            Ok(()) | Err(PortError::Gone(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Deletes up to [`JOB_BATCH`] of the schedules a shop still has armed.
async fn disarm_batch<P: JobPorts>(ports: &P, shop: &ShopDomain) -> Result<JobRun, UseCaseError> {
    let armed = ports.store().armed_checkouts(shop).await?;
    for record in armed.iter().take(JOB_BATCH) {
        disarm(ports, record).await?;
        update_checkout(ports, shop, &record.snapshot.token, |mut record| record.armed.take().map(|_| record)).await?;
    }
    Ok(JobRun { done: armed.len().min(JOB_BATCH), continues: armed.len() > JOB_BATCH })
}

/// Everything that belongs to a customer: their checkouts (by the email's and the phone's
/// contact keys), those checkouts' carts and other contact keys, captures, and contact states.
async fn customer_owners<P: Ports<Store: Checkouts + Erasure>>(
    ports: &P,
    shop: &ShopDomain,
    customer: &CustomerRef,
) -> Result<BTreeSet<DataOwner>, UseCaseError> {
    let mut keys: Vec<ContactKey> = Vec::new();
    keys.extend(customer.email.as_deref().map(|e| ContactKey::for_email(shop, e)));
    keys.extend(customer.phone.as_deref().map(|p| ContactKey::for_phone(shop, p)));
    let mut owners: BTreeSet<DataOwner> = keys.iter().cloned().map(DataOwner::Contact).collect();
    for owner in ports.store().customer_data(shop, &keys).await? {
        if let DataOwner::Checkout(token) = &owner
            && let Some(record) = ports.store().load_checkout(shop, token).await?
        {
            let contact = &record.snapshot.contact;
            owners.extend(contact.email_key(shop).map(DataOwner::Contact));
            owners.extend(contact.phone_key(shop).map(DataOwner::Contact));
            owners.extend(record.snapshot.cart_token.clone().map(DataOwner::Cart));
        }
        owners.insert(owner);
    }
    Ok(owners)
}

/// Deletes everything held on a customer, their push endpoints at the push service included;
/// returns how many items went.
pub async fn redact_customer<
    P: Ports<Store: Checkouts + Contacts + Erasure + Stats, Scheduler: Scheduler, Messenger: PushSender>,
>(
    ports: &P,
    shop: &ShopDomain,
    customer: &CustomerRef,
) -> Result<usize, UseCaseError> {
    let owners = customer_owners(ports, shop, customer).await?;
    let mut deleted = 0;
    for owner in &owners {
        match owner {
            DataOwner::Checkout(token) => {
                if let Some(record) = ports.store().load_checkout(shop, token).await? {
                    disarm(ports, &record).await?;
                }
            }
            DataOwner::Contact(key) => delete_devices(ports, shop, key).await?,
            DataOwner::Cart(_) => {}
        }
        deleted += ports.store().forget(shop, owner).await?;
    }
    count_by(ports, shop, "redact", &[("privacy.customers_redacted".to_owned(), 1)]).await?;
    tracing::info!(%shop, deleted, "customer redacted");
    Ok(deleted)
}

/// One checkout in an export, with what was sent and what the shopper replied.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedCheckout {
    pub checkout: CheckoutRecord,
    pub messages: Vec<MessageRecord>,
    pub replies: Vec<InboundReply>,
}

/// Everything held on a customer at a shop.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerExport {
    pub shop: ShopDomain,
    pub data_request_id: String,
    pub customer: CustomerRef,
    pub checkouts: Vec<ExportedCheckout>,
    pub captures: Vec<Capture>,
    /// Suppression, consent, recent sends and devices, by contact key.
    pub contacts: Vec<(String, ContactState)>,
}

/// Gathers everything held on a customer.
pub async fn export_customer<P: ExportPorts>(
    ports: &P,
    shop: &ShopDomain,
    customer: &CustomerRef,
    request_id: &str,
) -> Result<CustomerExport, UseCaseError> {
    let store = ports.store();
    let mut export = CustomerExport {
        shop: shop.clone(),
        data_request_id: request_id.to_owned(),
        customer: customer.clone(),
        checkouts: Vec::new(),
        captures: Vec::new(),
        contacts: Vec::new(),
    };
    for owner in customer_owners(ports, shop, customer).await? {
        match owner {
            DataOwner::Checkout(token) => {
                if let Some(checkout) = store.load_checkout(shop, &token).await? {
                    let messages = store.messages(shop, &token).await?;
                    let replies = store.replies(shop, &token).await?;
                    export.checkouts.push(ExportedCheckout { checkout, messages, replies });
                }
            }
            DataOwner::Cart(cart) => export.captures.extend(store.load_capture(shop, &cart).await?),
            DataOwner::Contact(key) => {
                let state = store.contact(shop, &key).await?;
                if state != ContactState::default() {
                    export.contacts.push((key.as_str().to_owned(), state));
                }
            }
        }
    }
    Ok(export)
}

/// Handles `customers/data_request`: the export goes, as a JSON attachment, to the shop's contact
/// address from its installation. Without one the request fails (and Shopify retries it).
pub async fn send_customer_export<P: ExportPorts<Store: Shops + Stats, Messenger: EmailSender>>(
    ports: &P,
    shop: &ShopDomain,
    customer: &CustomerRef,
    request_id: &str,
) -> Result<(), UseCaseError> {
    let contact = ports.store().shop_state(shop).await?.installation.and_then(|i| i.contact_email);
    let Some(to) = contact else {
        return Err(UseCaseError::BadRequest("no contact address is known for this shop; reinstall the app".into()));
    };
    let export = export_customer(ports, shop, customer, request_id).await?;
    let json = serde_json::to_vec_pretty(&export).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    let summary = format!(
        "Customer data request {request_id}: {} checkout(s), {} storefront capture(s), {} contact record(s). \
         Everything Reclaim holds on this customer is attached as JSON.",
        export.checkouts.len(),
        export.captures.len(),
        export.contacts.len()
    );
    let email = OutgoingEmail {
        from: ports.config().sender.clone(),
        to,
        subject: format!("Reclaim: customer data request {request_id}"),
        html: format!("<p>{summary}</p>"),
        text: summary,
        unsubscribe_url: String::new(),
        tags: vec![("shop".into(), shop.as_str().replace('.', "_")), ("kind".into(), "data_request".into())],
        attachment: Some((format!("customer-data-{request_id}.json"), json)),
        reply_to: None,
    };
    ports.messenger().send_email(&email).await?;
    count_by(ports, shop, "export", &[("privacy.data_requests".to_owned(), 1)]).await?;
    tracing::info!(%shop, "customer data export sent");
    Ok(())
}
