//! In-process route benchmarks on the embedded store with a seeded catalog: the storefront
//! listing and product page, creating a product, adjusting stock, reserving stock (1 and 5
//! lines, the operation carts call), carts (create, add a line, change a line, read), the totals
//! of a 20-line cart with shipping and three tax rates a line, and its discounts with five
//! automatic discounts that all combine (pure CPU), checkout (a 3-line cart with shipping,
//! paid with the test provider and captured at once), and staff and customer sign-in.
//!
//! `cargo bench -p commerce-tests --bench routes` prints p50/p99 latency and store calls per
//! request for each route (from its own pass), then divan's statistics with allocations.
//! `BENCH_SMOKE=1` seeds a small catalog, runs a few requests of each and skips divan: the test
//! command runs it that way to keep the benchmarks working. `BENCH_ONLY=<text>` runs only the
//! passes whose names contain the text (for profiling one route).

use bytes::Bytes;
use divan::{AllocProfiler, Bencher};
use serde_json::{json, Value};
use shared::app::{App, EmbeddedApp, EmbeddedOptions};
use shared::clock::SystemClock;
use shared::http::dispatch::dispatch;
use shared::http::route::Router;
use shared::http::ApiRequest;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";
const SHOPPER: &str = "velvet-canyon-lantern-42";

fn smoke() -> bool {
    std::env::var("BENCH_SMOKE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `BENCH_ONLY=<text>` runs only the passes whose name contains it (and no divan statistics):
/// for profiling one route.
fn chosen(name: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
    router: Router,
    key: String,
    staff: String,
    handle: String,
    products: usize,
    /// Every variant, with stock at the one location.
    variants: Vec<String>,
    location: String,
    /// A guest cart the cart benchmarks add to, change and read.
    cart: String,
    /// The shipping method checkout carts choose.
    method: String,
    created: AtomicU64,
    _files: tempfile::TempDir,
}

struct Call {
    method: &'static str,
    path: String,
    query: String,
    key: bool,
    token: Option<String>,
    idempotency_key: Option<String>,
    body: Option<Value>,
}

impl Fixture {
    async fn send(&self, call: &Call) -> (u16, Value) {
        let mut headers = http::HeaderMap::new();
        if call.key {
            headers.insert("x-api-key", self.key.parse().unwrap());
        }
        if let Some(token) = &call.token {
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        if let Some(key) = &call.idempotency_key {
            headers.insert("idempotency-key", key.parse().unwrap());
        }
        if call.body.is_some() {
            headers.insert("content-type", "application/json".parse().unwrap());
        }
        let response = dispatch(
            &self.app,
            &self.router,
            ApiRequest {
                method: call.method.into(),
                path: call.path.clone(),
                query: call.query.clone(),
                headers,
                body: call
                    .body
                    .as_ref()
                    .map(|b| Bytes::from(serde_json::to_vec(b).unwrap()))
                    .unwrap_or_default(),
                source_ip: Some("127.0.0.1".into()),
                platform_request_id: None,
            },
        )
        .await;
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response.status, body)
    }
}

fn call(method: &'static str, path: &str) -> Call {
    Call {
        method,
        path: path.into(),
        query: String::new(),
        key: false,
        token: None,
        idempotency_key: None,
        body: None,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let files = tempfile::tempdir().unwrap();
        let opened = EmbeddedApp::open(EmbeddedOptions {
            database: None,
            files: files.path().to_owned(),
            base_url: "http://127.0.0.1:3000".into(),
            secret: vec![9; 32],
            staff_token_key: None,
            clock: Arc::new(SystemClock),
        })
        .unwrap();
        let mut fixture = Fixture {
            runtime,
            app: opened.app,
            router: shared::routes::router(shared::routes::ALL),
            key: String::new(),
            staff: String::new(),
            handle: String::new(),
            products: if smoke() { 30 } else { 1000 },
            variants: Vec::new(),
            location: String::new(),
            cart: String::new(),
            method: String::new(),
            created: AtomicU64::new(0),
            _files: files,
        };
        let started = Instant::now();
        let runtime = std::mem::replace(
            &mut fixture.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        runtime.block_on(seed(&mut fixture));
        fixture.runtime = runtime;
        eprintln!(
            "seeded {} products in {:.1} s",
            fixture.products,
            started.elapsed().as_secs_f64()
        );
        fixture
    })
}

async fn seed(f: &mut Fixture) {
    let mut register = call("POST", "/admin/auth/register");
    register.body = Some(json!({
        "company": {"name": "Bench", "handle": "bench", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
        "owner": {"name": "Bea", "email": "bea@bench.example.com", "password": PASSWORD}
    }));
    let (_, r) = f.send(&register).await;
    f.staff = r["access_token"].as_str().unwrap().to_owned();
    let staff = Some(f.staff.clone());
    let mut key = call("POST", "/admin/api-keys");
    key.token = staff.clone();
    key.body = Some(
        json!({"name": "bench", "scopes": ["store.read", "products.read", "categories.read", "customers.auth", "customers.write", "carts.write", "checkout.write"]}),
    );
    f.key = f.send(&key).await.1["secret"].as_str().unwrap().to_owned();
    let mut category = call("POST", "/admin/categories");
    category.token = staff.clone();
    category.body = Some(json!({"title": "Everything"}));
    let category_id = f.send(&category).await.1["id"].as_str().unwrap().to_owned();
    let mut location = call("POST", "/admin/locations");
    location.token = staff.clone();
    location.body = Some(json!({"name": "Warehouse"}));
    f.location = f.send(&location).await.1["id"].as_str().unwrap().to_owned();
    for i in 0..f.products {
        let mut product = call("POST", "/admin/products");
        product.token = staff.clone();
        product.body = Some(json!({
            "title": format!("Product {i:04}"), "status": "active", "tags": ["bench"],
            "description": "A product with a **short** description.", "description_format": "markdown",
            "category_ids": [category_id], "options": [{"name": "Size", "values": ["S", "M"]}]
        }));
        let (status, created) = f.send(&product).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        if i == f.products / 2 {
            f.handle = created["handle"].as_str().unwrap().to_owned();
        }
        for (n, size) in ["S", "M"].iter().enumerate() {
            let mut variant = call("POST", "");
            variant.path = format!("/admin/products/{id}/variants");
            variant.token = staff.clone();
            variant.body = Some(json!({
                "sku": format!("B-{i}-{size}"), "options": {"Size": size},
                "price": {"amount": 1000 + i as i64 + n as i64 * 100, "currency": "EUR"}
            }));
            let (status, created) = f.send(&variant).await;
            assert_eq!(status, 201);
            let variant_id = created["id"].as_str().unwrap().to_owned();
            let mut stock = call("POST", "/admin/inventory/adjustments");
            stock.token = staff.clone();
            stock.body = Some(json!({
                "variant_id": variant_id, "location_id": f.location, "delta": 1000, "reason": "received"
            }));
            assert_eq!(f.send(&stock).await.0, 201);
            f.variants.push(variant_id);
        }
    }
    // The last variant's level is split into 8 shards, as for a flash sale.
    let mut split = call("PUT", "/admin/inventory/shards");
    split.token = staff.clone();
    split.body = Some(json!({
        "variant_id": f.variants.last().unwrap(), "location_id": f.location, "shards": 8
    }));
    let (status, level) = f.send(&split).await;
    assert_eq!(status, 200, "{level}");
    // A manual collection of the first hundred products, in the order placed.
    let mut collection = call("POST", "/admin/collections");
    collection.token = staff.clone();
    collection.body = Some(json!({"title": "Bench picks"}));
    let collection_id = f.send(&collection).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut listed = call("GET", "/admin/products");
    listed.token = staff.clone();
    listed.query = "limit=100".into();
    let ids: Vec<Value> = f.send(&listed).await.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    for chunk in ids.chunks(50) {
        let mut place = call("POST", "");
        place.path = format!("/admin/collections/{collection_id}/products");
        place.token = staff.clone();
        place.body = Some(json!({"product_ids": chunk}));
        let (status, placed) = f.send(&place).await;
        assert_eq!(status, 200, "{placed}");
    }
    // Checkout: shipping to Germany, the test provider, captured at once.
    let mut zone = call("POST", "/admin/shipping/zones");
    zone.token = staff.clone();
    zone.body = Some(json!({"name": "Germany", "countries": ["DE"], "methods": [
        {"name": "Standard", "currency": "EUR", "rate": {"type": "flat", "amount": 590}}
    ]}));
    let (status, zone) = f.send(&zone).await;
    assert_eq!(status, 201, "{zone}");
    f.method = zone["methods"][0]["id"].as_str().unwrap().to_owned();
    let mut payments = call("PATCH", "/admin/settings/payments");
    payments.token = staff.clone();
    payments.body = Some(json!({"enabled_providers": ["test"], "capture_mode": "automatic"}));
    let (status, answer) = f.send(&payments).await;
    assert_eq!(status, 200, "{answer}");
    let mut cart = call("POST", "/store/carts");
    cart.key = true;
    cart.body = Some(json!({"items": [{"variant_id": f.variants[0], "quantity": 1}]}));
    let (status, created) = f.send(&cart).await;
    assert_eq!(status, 201, "{created}");
    f.cart = created["id"].as_str().unwrap().to_owned();
    let mut shopper = call("POST", "/store/auth/register");
    shopper.key = true;
    shopper.body = Some(json!({"email": "sam@bench.example.com", "password": SHOPPER}));
    assert_eq!(f.send(&shopper).await.0, 201);
}

fn listing() -> Call {
    let mut c = call("GET", "/store/products");
    c.query = "limit=20".into();
    c.key = true;
    c
}

fn category_page() -> Call {
    let mut c = call("GET", "/store/products");
    c.query = "limit=20&category=everything".into();
    c.key = true;
    c
}

fn collection_page() -> Call {
    let mut c = call("GET", "/store/collections/bench-picks");
    c.query = "limit=20".into();
    c.key = true;
    c
}

fn product_page(f: &Fixture) -> Call {
    let mut c = call("GET", &format!("/store/products/{}", f.handle));
    c.key = true;
    c
}

fn create_product(f: &Fixture) -> Call {
    let n = f.created.fetch_add(1, Ordering::Relaxed);
    let mut c = call("POST", "/admin/products");
    c.token = Some(f.staff.clone());
    c.body = Some(json!({"title": format!("Created {n}"), "status": "draft"}));
    c
}

fn adjust_stock(f: &Fixture) -> Call {
    let n = f.created.fetch_add(1, Ordering::Relaxed) as usize;
    let mut c = call("POST", "/admin/inventory/adjustments");
    c.token = Some(f.staff.clone());
    c.body = Some(json!({
        "variant_id": f.variants[n % f.variants.len()], "location_id": f.location,
        "delta": if n.is_multiple_of(2) { 1 } else { -1 }, "reason": "correction"
    }));
    c
}

/// Reserves `lines` variants for one holder (with `split`, the one variant whose level is split
/// into shards), alternating 1 and 2 units so that every call changes the reservation (a cart's
/// quantity change); answers the store calls it made.
fn reserve(f: &Fixture, lines: usize, split: bool, n: usize) -> u32 {
    use shared::inventory::reservations::{reserve, Line};
    let tenant = shared::identity::TenantId::for_tests(
        f.runtime
            .block_on(
                f.app
                    .table
                    .get(&shared::store::Key::new("HANDLE#bench", "HANDLE")),
            )
            .unwrap()
            .and_then(|h| h["tenant_id"].as_str().map(str::to_owned))
            .expect("the bench company"),
    );
    let variants = if split {
        &f.variants[f.variants.len() - 1..]
    } else {
        &f.variants[..lines]
    };
    let wanted: Vec<Line> = variants
        .iter()
        .map(|v| Line {
            variant_id: shared::ids::VariantId::parse(v).unwrap(),
            quantity: 1 + (n % 2) as i64,
        })
        .collect();
    let expires = f.app.clock.epoch_seconds() + 900;
    let holder = format!("cart_bench_{lines}_{split}");
    let (held, counters) = f.runtime.block_on(shared::observe::measure(reserve(
        &f.app, &tenant, &holder, &wanted, expires,
    )));
    let held = held.expect("stock for the bench");
    assert_eq!(
        held.iter().map(|l| l.quantity).sum::<i64>(),
        wanted.iter().map(|l| l.quantity).sum::<i64>()
    );
    counters.store_calls
}

/// Runs `reserve` `n` times and prints p50/p99 and the store calls of one call.
fn report_reserve(name: &str, n: usize, lines: usize, split: bool) {
    if !chosen(name) {
        return;
    }
    let f = fixture();
    let mut times = Vec::with_capacity(n);
    let mut calls = 0;
    for i in 0..n {
        let started = Instant::now();
        calls = reserve(f, lines, split, i);
        times.push(started.elapsed());
    }
    print_times(name, times, calls);
}

/// Prints a pass's p50 and p99 and the store calls of one of its requests.
fn print_times(name: &str, mut times: Vec<std::time::Duration>, calls: u32) {
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "{name:<26} p50 {:>9.3} ms   p99 {:>9.3} ms   store calls {calls}",
        pct(50).as_secs_f64() * 1000.0,
        pct(99).as_secs_f64() * 1000.0,
    );
}

fn create_cart() -> Call {
    let mut c = call("POST", "/store/carts");
    c.key = true;
    c.body = Some(json!({}));
    c
}

/// Adds one unit of the next variant (the cart's lines cycle through the first 20 variants, so
/// each line grows well within its variant's stock).
fn add_to_cart(f: &Fixture) -> Call {
    let n = f.created.fetch_add(1, Ordering::Relaxed) as usize;
    let mut c = call("POST", "");
    c.path = format!("/store/carts/{}/items", f.cart);
    c.key = true;
    c.body = Some(json!({"variant_id": f.variants[n % 20.min(f.variants.len())], "quantity": 1}));
    c
}

fn get_cart(f: &Fixture) -> Call {
    let mut c = call("GET", &format!("/store/carts/{}", f.cart));
    c.key = true;
    c
}

fn staff_login() -> Call {
    let mut c = call("POST", "/admin/auth/login");
    c.body =
        Some(json!({"company": "bench", "email": "bea@bench.example.com", "password": PASSWORD}));
    c
}

fn customer_login() -> Call {
    let mut c = call("POST", "/store/auth/login");
    c.key = true;
    c.body = Some(json!({"email": "sam@bench.example.com", "password": SHOPPER}));
    c
}

/// Runs a route `n` times and prints p50/p99 and the store calls of one request.
fn report(name: &str, n: usize, make: impl Fn(&Fixture) -> Call) {
    if !chosen(name) && name != "(warm-up)" {
        return;
    }
    let f = fixture();
    let mut times = Vec::with_capacity(n);
    let mut calls = 0;
    for _ in 0..n {
        let request = make(f);
        let started = Instant::now();
        let ((status, body), counters) = f
            .runtime
            .block_on(shared::observe::measure(f.send(&request)));
        times.push(started.elapsed());
        assert!((200..300).contains(&status), "{name}: {status} {body}");
        calls = counters.store_calls;
    }
    print_times(name, times, calls);
}

/// A guest cart of 3 lines (one unit each of three of the variants after the first 20) with an
/// email, an address in Germany, the shipping method and a test-provider payment session:
/// ready to check out.
fn ready_cart(f: &Fixture, n: usize) -> String {
    let variants = &f.variants[20.min(f.variants.len() - 3)..];
    let items: Vec<Value> = (0..3)
        .map(|k| json!({"variant_id": variants[(n * 3 + k) % variants.len()], "quantity": 1}))
        .collect();
    let mut create = call("POST", "/store/carts");
    create.key = true;
    create.body = Some(json!({"items": items, "email": "sam@bench.example.com"}));
    let (status, cart) = f.runtime.block_on(f.send(&create));
    assert_eq!(status, 201, "{cart}");
    let id = cart["id"].as_str().unwrap().to_owned();
    let steps = [
        (
            "PATCH",
            format!("/store/carts/{id}"),
            json!({"shipping_address": {
                "first_name": "Sam", "last_name": "Shopper", "line1": "Main Street 1",
                "city": "Berlin", "postal_code": "10115", "country": "DE"
            }}),
        ),
        (
            "POST",
            format!("/store/carts/{id}/shipping-method"),
            json!({"option_id": f.method}),
        ),
        (
            "POST",
            format!("/store/carts/{id}/payment-sessions"),
            json!({"provider": "test"}),
        ),
    ];
    for (method, path, body) in steps {
        let mut step = call(method, &path);
        step.key = true;
        step.body = Some(body);
        let (status, answer) = f.runtime.block_on(f.send(&step));
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
    }
    id
}

fn checkout(cart: &str) -> Call {
    let mut c = call("POST", &format!("/store/carts/{cart}/complete"));
    c.key = true;
    c.idempotency_key = Some(format!("bench-{cart}"));
    c.body = Some(json!({"payment_details": {"card_number": "4242424242424242"}}));
    c
}

/// Checks out `n` carts, each made ready beforehand (not timed), and prints p50/p99 and the
/// store calls of one checkout.
fn report_checkout(name: &str, n: usize) {
    if !chosen(name) {
        return;
    }
    let f = fixture();
    let carts: Vec<String> = (0..n).map(|i| ready_cart(f, i)).collect();
    let mut times = Vec::with_capacity(n);
    let mut calls = 0;
    for cart in &carts {
        let request = checkout(cart);
        let started = Instant::now();
        let ((status, body), counters) = f
            .runtime
            .block_on(shared::observe::measure(f.send(&request)));
        times.push(started.elapsed());
        assert_eq!(status, 201, "{name}: {body}");
        assert_eq!(body["order"]["payment_status"], "paid", "{body}");
        calls = counters.store_calls;
    }
    print_times(name, times, calls);
}

/// The pure part of pricing a 20-line cart shipped to New York City (three rates a line): the
/// lines alone, the built-in tax engine's charges, and the totals with a shipping price, as
/// `carts::pricing` runs them; answers the grand total.
fn price_twenty_lines(
    lines: &[shared::pricing::LineInput],
    rates: &std::sync::Arc<Vec<shared::tax::model::TaxRate>>,
) -> i64 {
    use shared::pricing::{
        compute, Adjusters, Currency, FixedShipping, FixedTax, NoDiscounts, NoShipping, NoTax,
        PricingInput, TaxOutcome,
    };
    use shared::tax::provider::{BuiltIn, TaxRequest, Taxable};
    let input = PricingInput {
        currency: Currency::parse("USD").unwrap(),
        prices_include_tax: false,
        lines,
    };
    let none = Adjusters {
        discounts: &NoDiscounts,
        shipping: &NoShipping,
        tax: &NoTax,
    };
    let lines_only = compute(&input, &none).unwrap();
    let request = TaxRequest {
        currency: "USD",
        prices_include_tax: false,
        destination: shared::places::Destination {
            country: "US".into(),
            region: Some("US-NY".into()),
            postcode: Some("10001".into()),
        },
        lines: lines_only
            .lines
            .iter()
            .map(|l| Taxable {
                id: l.id.clone(),
                tax_class: "standard".into(),
                amount: l.subtotal - l.discount,
            })
            .collect(),
        shipping: Some(Taxable {
            id: "shipping".into(),
            tax_class: "standard".into(),
            amount: 890,
        }),
        rates: rates.clone(),
    };
    let answer = BuiltIn::answer(&request);
    let sum = |c: &[shared::tax::engine::Charge]| c.iter().map(|c| c.amount).sum::<i64>();
    let outcome = TaxOutcome {
        lines: answer.lines.iter().map(|c| sum(c)).collect(),
        shipping: sum(&answer.shipping),
    };
    let totals = compute(
        &input,
        &Adjusters {
            discounts: &NoDiscounts,
            shipping: &FixedShipping(890),
            tax: &FixedTax(outcome),
        },
    )
    .unwrap();
    totals.grand_total
}

fn twenty_lines() -> (
    Vec<shared::pricing::LineInput>,
    std::sync::Arc<Vec<shared::tax::model::TaxRate>>,
) {
    let lines = (0..20)
        .map(|i| shared::pricing::LineInput {
            id: format!("item_{i}"),
            variant_id: format!("var_{i}"),
            product_id: format!("prod_{i}"),
            unit_price: 199 + 1_000 * i,
            quantity: 1 + i % 3,
            weight: Some(0.5),
        })
        .collect();
    let rate = |id: &str, percent: i64, priority: u32, postcode: Option<&str>| {
        shared::tax::model::TaxRate {
            id: id.into(),
            name: id.into(),
            country: "US".into(),
            region: Some("US-NY".into()),
            postcode: postcode
                .map(|p| shared::places::PostcodePattern::parse("postcode", p).unwrap()),
            tax_class: "standard".into(),
            rate: percent,
            compound: false,
            priority,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    };
    let rates = std::sync::Arc::new(vec![
        rate("txr_state", 40_000, 1, None),
        rate("txr_city", 45_000, 2, Some("10001-10292")),
        rate("txr_mctd", 3_750, 3, Some("100*")),
    ]);
    (lines, rates)
}

/// Five automatic discounts that all combine (two category percentages, a fixed order amount,
/// buy 2 get 1 and free shipping), for [`discount_twenty_lines`].
fn five_discounts() -> Vec<shared::discounts::model::Discount> {
    use shared::discounts::model::*;
    let all = CombinesWith {
        product_discounts: true,
        order_discounts: true,
        shipping_discounts: true,
    };
    let make = |id: &str, value: DiscountValue| Discount {
        id: id.into(),
        title: id.into(),
        method: DiscountMethod::Automatic,
        value,
        currency: Some("USD".into()),
        conditions: Conditions::default(),
        limits: Limits::default(),
        combines_with: all,
        active: true,
        starts_at: None,
        ends_at: Some("2099-01-01T00:00:00Z".into()),
        created_at: String::new(),
        updated_at: String::new(),
        version: 1,
    };
    let category = |c: &str| Targets {
        categories: vec![c.into()],
        ..Default::default()
    };
    vec![
        make(
            "disc_a",
            DiscountValue::Percentage {
                percentage: 15.0,
                targets: category("cat_even"),
            },
        ),
        make(
            "disc_b",
            DiscountValue::Percentage {
                percentage: 5.0,
                targets: category("cat_odd"),
            },
        ),
        make(
            "disc_c",
            DiscountValue::FixedOrder {
                amount: 1_000,
                targets: Targets::default(),
            },
        ),
        make(
            "disc_d",
            DiscountValue::BuyXGetY {
                buy: BuyRule {
                    quantity: 2,
                    targets: category("cat_even"),
                },
                get: GetRule {
                    quantity: 1,
                    targets: category("cat_even"),
                    percentage: 50.0,
                },
                max_applications: Some(3),
            },
        ),
        make(
            "disc_e",
            DiscountValue::FreeShipping {
                max_amount: Some(1_000),
                method_ids: vec![],
            },
        ),
    ]
}

/// The pure part of discounting a 20-line cart with five automatic discounts, as
/// `carts::pricing` runs it: which apply, their best combination (every one of the 32 sets
/// tried), then the totals with the discounts and a shipping price; answers the grand total.
fn discount_twenty_lines(
    lines: &[shared::pricing::LineInput],
    discounts: &[shared::discounts::model::Discount],
) -> i64 {
    use shared::discounts::engine::{best, refusal, Basket, Line};
    use shared::pricing::{
        compute, Adjusters, Currency, FixedDiscounts, FixedShipping, NoTax, PricingInput,
    };
    let even = ["cat_even".to_owned()];
    let odd = ["cat_odd".to_owned()];
    let basket_lines: Vec<Line> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| Line {
            product_id: &l.product_id,
            variant_id: &l.variant_id,
            categories: if i % 2 == 0 { &even } else { &odd },
            collections: &[],
            subtotal: l.unit_price * l.quantity,
            quantity: l.quantity,
        })
        .collect();
    let basket = Basket {
        currency: "USD",
        lines: &basket_lines,
        customer: None,
        groups: &[],
        now: 1_800_000_000,
        method_id: Some("shm_standard"),
    };
    let candidates: Vec<&shared::discounts::model::Discount> = discounts
        .iter()
        .filter(|d| refusal(d, &basket).is_none())
        .collect();
    let entered = vec![false; candidates.len()];
    let shipping = |subtotal: i64| Some(if subtotal >= 50_000 { 0 } else { 890 });
    let chosen = best(&candidates, &entered, &basket, &shipping);
    let input = PricingInput {
        currency: Currency::parse("USD").unwrap(),
        prices_include_tax: false,
        lines,
    };
    let totals = compute(
        &input,
        &Adjusters {
            discounts: &FixedDiscounts {
                lines: chosen.lines,
                shipping: chosen.shipping,
            },
            shipping: &FixedShipping(chosen.shipping_price.unwrap_or(0)),
            tax: &NoTax,
        },
    )
    .unwrap();
    totals.grand_total
}

fn report_discounts(name: &str, n: usize) {
    if !chosen(name) {
        return;
    }
    let (lines, _) = twenty_lines();
    let discounts = five_discounts();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        std::hint::black_box(discount_twenty_lines(&lines, &discounts));
        times.push(started.elapsed());
    }
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "{name:<26} p50 {:>9.3} µs   p99 {:>9.3} µs   (pure CPU)",
        pct(50).as_secs_f64() * 1e6,
        pct(99).as_secs_f64() * 1e6,
    );
}

fn report_pricing(name: &str, n: usize) {
    if !chosen(name) {
        return;
    }
    let (lines, rates) = twenty_lines();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        std::hint::black_box(price_twenty_lines(&lines, &rates));
        times.push(started.elapsed());
    }
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "{name:<26} p50 {:>9.3} µs   p99 {:>9.3} µs   (pure CPU)",
        pct(50).as_secs_f64() * 1e6,
        pct(99).as_secs_f64() * 1e6,
    );
}

fn main() {
    let (fast, slow) = if smoke() { (5, 2) } else { (2000, 40) };
    println!("catalog of {} products; warm caches", fixture().products);
    // One request each first, so the key, settings and taxonomy caches are warm.
    report("(warm-up)", 1, |_| listing());
    report("(warm-up)", 1, |_| collection_page());
    report("store listing", fast, |_| listing());
    report("store category page", fast, |_| category_page());
    report("store collection page", fast, |_| collection_page());
    report("store product page", fast, product_page);
    report("admin product create", fast / 4, create_product);
    report("admin stock adjust", fast / 4, adjust_stock);
    report_reserve("reserve 1 line", fast / 4, 1, false);
    report_reserve("reserve 5 lines", fast / 4, 5, false);
    report_reserve("reserve 1 line, 8 shards", fast / 4, 1, true);
    report("store create cart", fast / 4, |_| create_cart());
    report("store add to cart", (fast / 4).max(2), add_to_cart);
    report("store get cart", fast, get_cart);
    report_checkout("store checkout, 3 lines", (fast / 4).max(2));
    report_pricing("totals of a 20-line cart", fast * 5);
    report_discounts("5 discounts, 20 lines", fast * 5);
    report("staff login", slow, |_| staff_login());
    report("customer login", slow, |_| customer_login());
    if smoke() || std::env::var("BENCH_ONLY").is_ok() {
        return;
    }
    divan::main();
}

#[divan::bench]
fn store_listing(bencher: Bencher) {
    let f = fixture();
    let request = listing();
    bencher.bench(|| f.runtime.block_on(f.send(&request)));
}

#[divan::bench]
fn store_category_page(bencher: Bencher) {
    let f = fixture();
    let request = category_page();
    bencher.bench(|| f.runtime.block_on(f.send(&request)));
}

#[divan::bench]
fn store_collection_page(bencher: Bencher) {
    let f = fixture();
    let request = collection_page();
    bencher.bench(|| f.runtime.block_on(f.send(&request)));
}

#[divan::bench]
fn store_product_page(bencher: Bencher) {
    let f = fixture();
    let request = product_page(f);
    bencher.bench(|| f.runtime.block_on(f.send(&request)));
}

#[divan::bench(sample_count = 20, sample_size = 5)]
fn admin_product_create(bencher: Bencher) {
    let f = fixture();
    bencher
        .with_inputs(|| create_product(f))
        .bench_values(|request| f.runtime.block_on(f.send(&request)));
}

#[divan::bench]
fn totals_of_a_twenty_line_cart(bencher: Bencher) {
    let (lines, rates) = twenty_lines();
    bencher.bench(|| price_twenty_lines(&lines, &rates));
}

#[divan::bench]
fn discounts_of_a_twenty_line_cart(bencher: Bencher) {
    let (lines, _) = twenty_lines();
    let discounts = five_discounts();
    bencher.bench(|| discount_twenty_lines(&lines, &discounts));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn staff_login_route(bencher: Bencher) {
    let f = fixture();
    let request = staff_login();
    bencher.bench(|| f.runtime.block_on(f.send(&request)));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn customer_login_route(bencher: Bencher) {
    let f = fixture();
    let request = customer_login();
    bencher.bench(|| f.runtime.block_on(f.send(&request)));
}

#[divan::bench(sample_count = 20, sample_size = 5)]
fn reserve_one_line(bencher: Bencher) {
    let f = fixture();
    let n = AtomicU64::new(0);
    bencher.bench(|| reserve(f, 1, false, n.fetch_add(1, Ordering::Relaxed) as usize));
}

#[divan::bench(sample_count = 20, sample_size = 5)]
fn reserve_five_lines(bencher: Bencher) {
    let f = fixture();
    let n = AtomicU64::new(0);
    bencher.bench(|| reserve(f, 5, false, n.fetch_add(1, Ordering::Relaxed) as usize));
}
