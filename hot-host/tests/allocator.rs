//! A host with its own `#[global_allocator]` drives a real plugin: no memory allocated by one
//! image is freed by another's allocator.
//!
//! The allocator of this test binary records every pointer it hands out and checks every pointer
//! it is asked to free or grow against that record: a pointer it did not allocate (the plugin's
//! memory, freed by the host) is counted, and leaked rather than passed on. The scenario runs
//! twice: the first run initializes what stays allocated for the life of the process (lazy
//! statics, buffers); in the second, every pointer the host allocated must have come back to it
//! (memory the host gave the plugin and the plugin freed never comes back).
//!
//! A test binary of its own without the test harness: the allocator serves the whole process,
//! and no other test may allocate while the second run is measured.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hot_host::{CallErrorKind, Host, Value};

/// Room for the pointers live at once (a power of two).
const TABLE: usize = 1 << 20;

/// An open-addressing set of live pointers, each with the run that allocated it, under a spin
/// lock (it may not allocate itself).
struct Live {
    lock: AtomicBool,
    ptrs: [AtomicUsize; TABLE],
    runs: [AtomicUsize; TABLE],
}

static LIVE: Live = Live {
    lock: AtomicBool::new(false),
    ptrs: [const { AtomicUsize::new(0) }; TABLE],
    runs: [const { AtomicUsize::new(0) }; TABLE],
};

/// The run being measured (0: none).
static RUN: AtomicUsize = AtomicUsize::new(0);
/// Frees and reallocations of pointers this allocator did not hand out.
static FOREIGN: AtomicUsize = AtomicUsize::new(0);

fn hash(p: usize) -> usize {
    (p >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) & (TABLE - 1)
}

impl Live {
    fn locked<R>(&self, f: impl FnOnce() -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        let r = f();
        self.lock.store(false, Ordering::Release);
        r
    }

    fn insert(&self, p: usize) {
        self.locked(|| {
            let mut i = hash(p);
            while self.ptrs[i].load(Ordering::Relaxed) != 0 {
                i = (i + 1) & (TABLE - 1);
            }
            self.ptrs[i].store(p, Ordering::Relaxed);
            self.runs[i].store(RUN.load(Ordering::Relaxed), Ordering::Relaxed);
        })
    }

    /// Removes `p`; whether it was there.
    fn remove(&self, p: usize) -> bool {
        self.locked(|| {
            let mut i = hash(p);
            loop {
                match self.ptrs[i].load(Ordering::Relaxed) {
                    0 => return false,
                    q if q == p => break,
                    _ => i = (i + 1) & (TABLE - 1),
                }
            }
            // Backward-shift deletion: no tombstones.
            let mut hole = i;
            let mut j = i;
            loop {
                j = (j + 1) & (TABLE - 1);
                let q = self.ptrs[j].load(Ordering::Relaxed);
                if q == 0 {
                    break;
                }
                let home = hash(q);
                // Move `q` into the hole unless its home lies cyclically in (hole, j].
                let stays = if hole <= j {
                    hole < home && home <= j
                } else {
                    hole < home || home <= j
                };
                if !stays {
                    self.ptrs[hole].store(q, Ordering::Relaxed);
                    self.runs[hole].store(self.runs[j].load(Ordering::Relaxed), Ordering::Relaxed);
                    hole = j;
                }
            }
            self.ptrs[hole].store(0, Ordering::Relaxed);
            true
        })
    }

    /// How many live pointers run `run` allocated.
    fn count(&self, run: usize) -> usize {
        self.locked(|| {
            (0..TABLE)
                .filter(|&i| {
                    self.ptrs[i].load(Ordering::Relaxed) != 0
                        && self.runs[i].load(Ordering::Relaxed) == run
                })
                .count()
        })
    }
}

struct Counting;

// SAFETY: every call is forwarded to `System` with the caller's arguments, except frees and
// reallocations of pointers `System` did not hand out through this allocator, which are
// leaked (never passed on) and counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.insert(p as usize);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if LIVE.remove(p as usize) {
            // SAFETY: `p` was allocated by `System` through this allocator with `layout`.
            unsafe { System.dealloc(p, layout) }
        } else {
            FOREIGN.fetch_add(1, Ordering::SeqCst);
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !LIVE.remove(p as usize) {
            FOREIGN.fetch_add(1, Ordering::SeqCst);
            return core::ptr::null_mut();
        }
        // SAFETY: `p` was allocated by `System` through this allocator with `layout`.
        let q = unsafe { System.realloc(p, layout, new_size) };
        LIVE.insert(if q.is_null() { p } else { q } as usize);
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const V1: &str = r#"
use coo_runtime::{CooType, hot_fn};

#[derive(CooType, Debug)]
pub struct Item {
    pub name: String,
    pub tags: Vec<String>,
}

#[derive(CooType, Debug)]
pub struct Inventory {
    pub owner: String,
    pub items: Vec<Item>,
    pub note: Option<Box<String>>,
}

#[hot_fn]
pub fn init() -> Inventory {
    Inventory {
        owner: "ada".repeat(20),
        items: vec![Item { name: "lamp".into(), tags: vec!["old".into(), "brass".into()] }],
        note: Some(Box::new("fragile".repeat(10))),
    }
}

#[hot_fn]
pub fn greet(name: String) -> String {
    format!("hello {name}, {}", "welcome ".repeat(8))
}

#[hot_fn]
pub fn rename(inv: &mut Inventory, owner: String) -> usize {
    inv.owner = owner;
    inv.owner.len()
}

#[hot_fn]
pub fn add(inv: &mut Inventory, item: Item) -> usize {
    inv.items.push(item);
    inv.items.len()
}

#[hot_fn]
pub fn boom(why: &str) -> u32 {
    panic!("boom: {why} {}", "!".repeat(40))
}

#[hot_fn]
pub fn describe(inv: &Inventory) -> String {
    format!("{} has {} items", inv.owner, inv.items.len())
}
"#;

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// One host, one plugin: calls with `String` arguments and returns, a `CooType` argument, a
/// panicking call, and a reload whose migration moves heap parts; then everything is dropped.
fn scenario(name: &str) {
    let dir = support::variant(name, V1, |manifest| manifest);
    let mut host = Host::with_builder(support::builder(dir.path()));
    host.reload()
        .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
    assert_eq!(
        host.call_by_name("init", &[]).unwrap(),
        Value::Resource("Inventory".into())
    );
    let greeting = host
        .call_by_name("greet", &[string(&"bob".repeat(30))])
        .unwrap();
    assert_eq!(
        greeting,
        Value::String(format!(
            "hello {}, {}",
            "bob".repeat(30),
            "welcome ".repeat(8)
        ))
    );
    assert_eq!(
        host.call_by_name("rename", &[string(&"eve".repeat(30))])
            .unwrap(),
        Value::Int(90)
    );
    let item = r#"{"name": "rope, long and strong", "tags": ["new", "hemp", "thirty feet"]}"#;
    assert_eq!(
        host.call_by_name("add", &[Value::Json(item.into())])
            .unwrap(),
        Value::Int(2)
    );
    let err = host
        .call_by_name("boom", &[string("why not")])
        .expect_err("boom panics");
    assert!(
        matches!(&err.kind, CallErrorKind::Panicked { message } if *message == format!("boom: why not {}", "!".repeat(40))),
        "{err:?}"
    );

    // A new field: `Inventory` values are rebuilt, their strings, vectors and box moved over.
    let source = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    let source = source
        .replace(
            "pub note: Option<Box<String>>,\n}",
            "pub note: Option<Box<String>>,\n    #[coo(default = 7)]\n    pub gold: u32,\n}",
        )
        .replace(
            "note: Some(Box::new(\"fragile\".repeat(10))),",
            "note: Some(Box::new(\"fragile\".repeat(10))),\n        gold: 7,",
        )
        .replace(
            "format!(\"{} has {} items\", inv.owner, inv.items.len())",
            "format!(\"{} has {} items and {} gold\", inv.owner, inv.items.len(), inv.gold)",
        );
    std::fs::write(dir.path().join("src/lib.rs"), source).unwrap();
    let report = host
        .reload()
        .unwrap_or_else(|e| panic!("the reload fails: {e}"));
    assert_eq!(report.migration.types.len(), 1, "{report}");
    assert_eq!(
        host.call_by_name("describe", &[]).unwrap(),
        Value::String(format!("{} has 2 items and 7 gold", "eve".repeat(30)))
    );
    drop(host);
    drop(dir);
}

fn main() {
    if cfg!(miri) {
        println!(
            "skipped: builds plugin crates with cargo and dlopens them, which Miri cannot run"
        );
        return;
    }
    // Everything that stays allocated for the process's life is allocated by this first run.
    RUN.store(1, Ordering::SeqCst);
    scenario("coo_alloc_warm");
    let foreign_warm = FOREIGN.load(Ordering::SeqCst);
    let pinned_warm = hot_host::load::pinned().len();

    RUN.store(2, Ordering::SeqCst);
    scenario("coo_alloc_check");
    RUN.store(0, Ordering::SeqCst);
    let foreign = FOREIGN.load(Ordering::SeqCst);
    let live = LIVE.count(2);
    // Libraries are unloaded once nothing refers to them; one that stays mapped after closing
    // (pinned: here the version whose `boom` panicked, since printing the panic registered a
    // thread-local destructor of its `std`) is recorded for the life of the process: its source
    // and copy paths and why, three allocations. Nothing else may stay.
    let pinned = hot_host::load::pinned().len() - pinned_warm;

    println!(
        "foreign frees: {foreign_warm} in the first run, {foreign} after both; \
         host pointers of the second run still live: {live}, for {pinned} pinned image records"
    );
    assert_eq!(
        foreign, 0,
        "the host's allocator was asked to free memory it did not allocate"
    );
    assert_eq!(
        pinned, 1,
        "the version that panicked stays mapped, the other is unloaded"
    );
    assert_eq!(
        live,
        3 * pinned,
        "memory the host allocated in the second run was not freed by the host"
    );
    println!("ok: no memory crossed between the host's allocator and the plugin's");
}
