//! Which global allocator a plugin image uses, read from its symbol table before it is trusted.
//!
//! Heap memory moves between images: a `Vec`, `String` or `Box` that version N made and the
//! migration moved into version N+1's types is freed by N+1's code. That is sound only when every
//! version allocates with the same allocator, which holds for Rust's default one (each image's
//! `__rust_alloc` calls `malloc`, one heap per process). A plugin that sets its own
//! `#[global_allocator]` (or links a crate that does) gets a new *instance* of that allocator
//! with every loaded copy: mimalloc's heaps, a counter, an arena. N+1 would free N's memory into
//! another instance. So such a plugin is refused ([`LoadErrorKind::OwnGlobalAllocator`]).
//!
//! # How it is told, on ELF (Linux), with the compiler the header check pinned
//!
//! The loader only accepts plugins built by the host's own rustc (the header check compares
//! versions), so the allocator shim looks as that rustc (1.95) makes it. `__rust_alloc` and its
//! siblings are internal symbols (local, mangled as `_RNvCs<hash>_7___rustc12___rust_alloc`), so
//! they are in the `.symtab` section, not in the dynamic symbols:
//!
//! - **Default allocator**: rustc's shim defines `__rust_alloc` as a jump to std's
//!   `__rdl_alloc` (defined in std, not inlinable across crates without LTO), so
//!   `__rdl_alloc` is in the image.
//! - **Own allocator**: `#[global_allocator]` defines `__rust_alloc` itself, calling the
//!   allocator's `GlobalAlloc::alloc`; nothing refers to `__rdl_alloc`, and the linker drops it
//!   (`--gc-sections`). (Older compilers named it `__rg_alloc`; that counts as own too.)
//! - **Undecidable**: without a symbol table (`strip = "symbols"`) nothing can be told; with
//!   LTO across crates (`lto = true`, `"fat"`, `"thin"`) the shim is inlined into its callers
//!   and `__rdl_alloc` disappears either way. LTO also drops the shim's
//!   `__rust_no_alloc_shim_is_unstable` marker, which every image built without it keeps; so
//!   "no `__rdl_alloc`" means an own allocator only when the marker is there. Otherwise the
//!   plugin is refused as undecidable ([`LoadErrorKind::UnknownGlobalAllocator`]), never guessed.
//!
//! `-C link-dead-code` keeps `__rdl_alloc` beside an allocator of the plugin's own, so on
//! x86-64 "default" further needs `__rust_alloc` to branch to `__rdl_alloc` (the default shim is
//! one `jmp` to it). On other architectures the presence of `__rdl_alloc` decides. Libraries
//! that are not ELF (macOS, Windows) are not inspected: there the check does not run.
//!
//! [`LoadErrorKind::OwnGlobalAllocator`]: super::LoadErrorKind::OwnGlobalAllocator
//! [`LoadErrorKind::UnknownGlobalAllocator`]: super::LoadErrorKind::UnknownGlobalAllocator

use std::path::Path;

use object::{Architecture, Object, ObjectSection, ObjectSymbol, ReadRef};

/// What an image's symbols say about its global allocator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocator {
    /// Rust's default allocator (the system's `malloc`), shared by every image.
    Default,
    /// An allocator of the plugin's own (or of a crate it links).
    Own,
    /// The symbols do not say, for this reason.
    Unknown(String),
    /// Not an ELF file: not inspected.
    NotElf,
}

/// Reads the symbol table of the library file at `path` (see the [module docs](self)).
///
/// The file is mapped, not read: a debug image is tens of megabytes, mostly debug info, which
/// this never touches (it reads the ELF headers, `.symtab`, `.strtab` and the bytes of
/// `__rust_alloc`); reading it all cost more than the rest of a load.
pub fn allocator_of(path: &Path) -> Allocator {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => return Allocator::Unknown(format!("its file could not be read ({e})")),
    };
    // SAFETY: the mapping is read-only and lives until this function returns. Its bytes could
    // change under it only if another process wrote into this file meanwhile; the file is the
    // loader's own name for a library (a copy, or a hard link to cargo's output, which linkers
    // and cargo replace rather than write into: see `crate::load`), and `dlopen` maps the very
    // same file, so a writer would break the loaded code anyway. A file truncated while mapped
    // would fault on access (SIGBUS), the same risk `dlopen` itself takes.
    let data = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(data) => data,
        Err(e) => return Allocator::Unknown(format!("its file could not be mapped ({e})")),
    };
    if !data.starts_with(b"\x7fELF") {
        return Allocator::NotElf;
    }
    let file = match object::File::parse(&*data) {
        Ok(file) => file,
        Err(e) => return Allocator::Unknown(format!("its ELF file could not be read ({e})")),
    };
    if file.symbol_table().is_none() {
        return Allocator::Unknown(
            "it has no symbol table (it was built with `strip = \"symbols\"` or stripped \
             afterwards)"
                .to_owned(),
        );
    }
    // One pass over the symbols that can matter: the names the verdict needs, and the two
    // shims' symbols. Reading every name costs more than the rest of a load in a large image
    // (a 40 MB debug image has hundreds of thousands of symbols), so on 64-bit ELF only the
    // symbols whose names hold one of `NEEDLES` are read, found from the string table.
    let candidates: Vec<object::Symbol<'_, '_, &[u8]>> = match named_like_needles(&data) {
        Some(indices) => indices
            .into_iter()
            .filter_map(|index| file.symbol_by_index(index).ok())
            .collect(),
        None => file.symbols().collect(),
    };
    let (mut names, mut rust_alloc, mut rdl_alloc) = (Names::default(), None, None);
    for sym in candidates.into_iter().filter(|sym| sym.is_definition()) {
        let Ok(name) = sym.name() else { continue };
        names.see(name);
        if is_shim_symbol(name, "__rust_alloc") {
            rust_alloc = Some(sym);
        } else if is_shim_symbol(name, "__rdl_alloc") {
            rdl_alloc = Some(sym);
        }
    }
    let verdict = names.verdict();
    if verdict == Allocator::Default && file.architecture() == Architecture::X86_64 {
        return x86_64_shim_calls_default(&file, rust_alloc, rdl_alloc);
    }
    verdict
}

/// What [`Names::see`] and the shim lookups look for in a symbol's name: a symbol whose name
/// holds none of these plays no part in the verdict.
const NEEDLES: [&str; 4] = [
    "__rust_alloc",
    "__rdl_alloc",
    "__rg_alloc",
    "__rust_no_alloc_shim_is_unstable",
];

/// On 64-bit ELF, the indices in `.symtab` of the symbols whose names hold one of [`NEEDLES`]:
/// every occurrence of a needle in `.strtab` is found (`memmem`), and a symbol's name holds it
/// exactly when the name starts between the start of that string and the needle (names are
/// offsets into `.strtab` and run to the next NUL; linkers may point a name into the middle of
/// another, longer string, which this covers). `None` when the file is not 64-bit ELF or its
/// tables cannot be read: the caller then reads every name.
fn named_like_needles(data: &[u8]) -> Option<Vec<object::SymbolIndex>> {
    use object::read::elf::{ElfFile64, Sym};
    let elf = ElfFile64::<object::Endianness>::parse(data).ok()?;
    let endian = elf.endian();
    let table = elf.elf_symbol_table();
    let strtab = elf
        .section_by_index(table.string_section())
        .ok()?
        .data()
        .ok()?;
    // Each range: the offsets a name may start at to hold one occurrence of a needle.
    let mut ranges = Vec::new();
    for needle in NEEDLES {
        for at in memchr::memmem::find_iter(strtab, needle) {
            let start = memchr::memrchr(0, &strtab[..at]).map_or(0, |nul| nul + 1);
            ranges.push(start..=at);
        }
    }
    Some(
        table
            .symbols()
            .iter()
            .enumerate()
            .filter(|(_, sym)| {
                let name = sym.st_name(endian) as usize;
                ranges.iter().any(|range| range.contains(&name))
            })
            .map(|(index, _)| object::SymbolIndex(index))
            .collect(),
    )
}

/// What the names of an image's symbols say (see [`classify`]).
#[derive(Default)]
struct Names {
    default: bool,
    own: bool,
    shim_marker: bool,
}

impl Names {
    fn see(&mut self, name: &str) {
        self.default |= is_shim_symbol(name, "__rdl_alloc");
        self.own |= is_shim_symbol(name, "__rg_alloc");
        self.shim_marker |= name.contains("__rust_no_alloc_shim_is_unstable");
    }

    fn verdict(&self) -> Allocator {
        match (self.default, self.own, self.shim_marker) {
            (_, true, _) => Allocator::Own,
            (true, false, _) => Allocator::Default,
            (false, false, true) => Allocator::Own,
            (false, false, false) => Allocator::Unknown(
                "its allocator shim is not in its symbol table (it was built with `lto`, which \
                 inlines it)"
                    .to_owned(),
            ),
        }
    }
}

/// The verdict from the names of the symbols an image defines.
#[cfg(test)]
fn classify<'a>(names: impl IntoIterator<Item = &'a str>) -> Allocator {
    let mut seen = Names::default();
    for name in names {
        seen.see(name);
    }
    seen.verdict()
}

/// On x86-64, where the image has `__rdl_alloc`: whether its `__rust_alloc` calls it (a `jmp` or
/// `call` with a 32-bit displacement landing on it). rustc's default shim is exactly such a
/// `jmp`; an own allocator's `__rust_alloc` calls the allocator instead, even when
/// `-C link-dead-code` kept `__rdl_alloc` in the image.
fn x86_64_shim_calls_default<'data, 'file, R: ReadRef<'data>>(
    file: &'file object::File<'data, R>,
    rust_alloc: Option<object::Symbol<'data, 'file, R>>,
    rdl_alloc: Option<object::Symbol<'data, 'file, R>>,
) -> Allocator {
    let (Some(shim), Some(default)) = (rust_alloc, rdl_alloc) else {
        return Allocator::Unknown(
            "it has `__rdl_alloc` but no `__rust_alloc` in its symbol table".to_owned(),
        );
    };
    let code = shim
        .section_index()
        .and_then(|index| file.section_by_index(index).ok())
        .and_then(|section| {
            section
                .data_range(shim.address(), shim.size())
                .ok()
                .flatten()
        });
    let Some(code) = code else {
        return Allocator::Unknown("the code of its `__rust_alloc` could not be read".to_owned());
    };
    if calls(code, shim.address(), default.address()) {
        Allocator::Default
    } else {
        Allocator::Own
    }
}

/// Whether the x86-64 `code`, at address `at`, has a `jmp rel32` (`e9`) or `call rel32` (`e8`)
/// to `target`. A byte scan, not a disassembly: a match inside another instruction would need
/// its displacement to land exactly on `target`.
fn calls(code: &[u8], at: u64, target: u64) -> bool {
    code.windows(5).enumerate().any(|(i, bytes)| {
        let displacement = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        let next = at.wrapping_add(i as u64 + 5);
        matches!(bytes[0], 0xe8 | 0xe9)
            && next.wrapping_add_signed(i64::from(displacement)) == target
    })
}

/// Whether `symbol` is the allocator shim function `name`: unmangled (`__rdl_alloc`) or mangled
/// in rustc's `__rustc` namespace (`_RNvCs<hash>_7___rustc11___rdl_alloc`), not a longer name
/// such as `__rdl_alloc_zeroed`.
fn is_shim_symbol(symbol: &str, name: &str) -> bool {
    if symbol == name {
        return true;
    }
    // `<len of name>_<name>` at the end, without formatting it: this runs for every symbol.
    let Some(rest) = symbol.strip_suffix(name) else {
        return false;
    };
    let Some(rest) = rest.strip_suffix('_') else {
        return false;
    };
    let mut len = name.len();
    let mut rest = rest.as_bytes();
    while len > 0 {
        let Some((&digit, before)) = rest.split_last() else {
            return false;
        };
        if digit != b'0' + (len % 10) as u8 {
            return false;
        }
        len /= 10;
        rest = before;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shim_symbols_are_told_apart_from_longer_names() {
        assert!(is_shim_symbol("__rdl_alloc", "__rdl_alloc"));
        assert!(is_shim_symbol(
            "_RNvCsfLfy6EI15iL_7___rustc11___rdl_alloc",
            "__rdl_alloc"
        ));
        assert!(!is_shim_symbol(
            "_RNvCsfLfy6EI15iL_7___rustc18___rdl_alloc_zeroed",
            "__rdl_alloc"
        ));
        assert!(!is_shim_symbol(
            "_RNvCsfLfy6EI15iL_7___rustc12___rust_alloc",
            "__rdl_alloc"
        ));
        assert!(is_shim_symbol(
            "_RNvCsfLfy6EI15iL_7___rustc12___rust_alloc",
            "__rust_alloc"
        ));
        // The length before the name must be the name's own.
        assert!(!is_shim_symbol(
            "_RNvCs_7___rustc21___rdl_alloc",
            "__rdl_alloc"
        ));
        assert!(!is_shim_symbol(
            "_RNvCs_7___rustc1___rdl_alloc",
            "__rdl_alloc"
        ));
        assert!(!is_shim_symbol("x___rdl_alloc", "__rdl_alloc"));
    }

    /// The symbols found from the string table are exactly those whose names, read one by one,
    /// hold a needle: checked on this test program's own symbol table (a real rustc 1.95 image
    /// with the allocator shim, thousands of symbols).
    #[test]
    fn needles_found_from_the_string_table_are_those_of_a_full_scan() {
        let path = std::env::current_exe().unwrap();
        let data = std::fs::read(&path).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let full: Vec<object::SymbolIndex> = file
            .symbols()
            .filter(|sym| {
                sym.name()
                    .is_ok_and(|name| NEEDLES.iter().any(|needle| name.contains(needle)))
            })
            .map(|sym| sym.index())
            .collect();
        let fast = named_like_needles(&data).expect("a 64-bit ELF file");
        assert!(
            full.len() >= 2,
            "the shim's symbols are in the table: {full:?}"
        );
        assert!(file.symbols().count() > 100 * full.len());
        assert_eq!(fast, full);
    }

    /// `__rust_alloc` of a rustc 1.95 cdylib with the default allocator (`jmp 26e30` at
    /// `122d0`), and the start of one with its own (`sub $0x18,%rsp; ...`).
    #[test]
    fn a_jump_to_the_default_allocator_is_found_by_its_target() {
        let default = [0xe9, 0x5b, 0x4b, 0x01, 0x00, 0xcc, 0xcc];
        assert!(calls(&default, 0x122d0, 0x26e30));
        assert!(!calls(&default, 0x122d0, 0x26e40));
        let own = [0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0x7c, 0x24, 0x08];
        assert!(!calls(&own, 0x12a40, 0x26e30));
    }

    /// The `___rustc` symbols of cdylibs built by rustc 1.95 (`nm`), with and without a
    /// `#[global_allocator]`, with and without `lto = "fat"`.
    #[test]
    fn verdicts_from_rustc_1_95_symbol_tables() {
        let rustc = |names: &[&str]| -> Vec<String> {
            names
                .iter()
                .map(|n| format!("_RNvCsfLfy6EI15iL_7___rustc{}_{n}", n.len()))
                .collect()
        };
        let default = rustc(&[
            "rust_panic",
            "__rdl_alloc",
            "__rust_alloc",
            "__rdl_dealloc",
            "__rust_dealloc",
            "__rust_alloc_error_handler",
            "__rust_no_alloc_shim_is_unstable_v2",
        ]);
        let own = rustc(&[
            "rust_panic",
            "__rust_alloc",
            "__rust_dealloc",
            "__rust_alloc_error_handler",
            "__rust_no_alloc_shim_is_unstable_v2",
        ]);
        let lto = rustc(&["rust_panic", "__rust_alloc", "__rust_alloc_error_handler"]);
        let names = |v: &[String]| classify(v.iter().map(String::as_str));
        assert_eq!(names(&default), Allocator::Default);
        assert_eq!(names(&own), Allocator::Own);
        assert!(matches!(names(&lto), Allocator::Unknown(reason) if reason.contains("`lto`")));
        assert_eq!(classify(["__rg_alloc", "__rdl_alloc"]), Allocator::Own);
    }
}
