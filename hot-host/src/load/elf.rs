//! The one check of a library file `dlopen` does not make: that its loadable segments lie
//! within the file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const PT_LOAD: u32 = 1;

/// Checks that every loadable segment of an ELF file lies within the file: `dlopen` maps
/// them without looking, and reading a page past the end of the file kills the process with
/// SIGBUS. Files that are not ELF (Mach-O, PE, text) are left to the platform's loader, which
/// reads their headers with bounds checks.
pub(crate) fn check_segments(path: &Path) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut ident = [0u8; 64];
    let read = read_up_to(&mut file, &mut ident).map_err(|e| e.to_string())?;
    if read < 6 || ident[..4] != *b"\x7fELF" {
        return Ok(());
    }
    let wide = match ident[4] {
        1 => false,
        2 => true,
        class => return Err(format!("unknown ELF class {class}")),
    };
    let little = match ident[5] {
        1 => true,
        2 => false,
        data => return Err(format!("unknown ELF data encoding {data}")),
    };
    let header_len = if wide { 64 } else { 52 };
    if read < header_len {
        return Err(format!(
            "truncated: the ELF header needs {header_len} bytes, the file has {len}"
        ));
    }
    let field = |bytes: &[u8], at: usize, size: usize| -> u64 {
        let mut value = [0u8; 8];
        let src = &bytes[at..at + size];
        if little {
            value[..size].copy_from_slice(src);
            u64::from_le_bytes(value)
        } else {
            value[8 - size..].copy_from_slice(src);
            u64::from_be_bytes(value)
        }
    };
    let (phoff, phentsize, phnum) = if wide {
        (
            field(&ident, 32, 8),
            field(&ident, 54, 2),
            field(&ident, 56, 2),
        )
    } else {
        (
            field(&ident, 28, 4),
            field(&ident, 42, 2),
            field(&ident, 44, 2),
        )
    };
    let min_entry = if wide { 56 } else { 32 };
    if phnum > 0 && phentsize < min_entry {
        return Err(format!("bad ELF program header size {phentsize}"));
    }
    let table_end = phoff.saturating_add(phentsize * phnum);
    if table_end > len {
        return Err(format!(
            "truncated: the program headers end at byte {table_end}, the file has {len}"
        ));
    }
    let mut table = vec![0u8; (phentsize * phnum) as usize];
    file.seek(SeekFrom::Start(phoff))
        .and_then(|_| file.read_exact(&mut table))
        .map_err(|e| e.to_string())?;
    for entry in table.chunks_exact(phentsize as usize) {
        if field(entry, 0, 4) != u64::from(PT_LOAD) {
            continue;
        }
        let (offset, filesz) = if wide {
            (field(entry, 8, 8), field(entry, 32, 8))
        } else {
            (field(entry, 4, 4), field(entry, 16, 4))
        };
        let end = offset.saturating_add(filesz);
        if end > len {
            return Err(format!(
                "truncated: a loadable segment ends at byte {end}, the file has {len}"
            ));
        }
    }
    Ok(())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut read = 0;
    while read < buf.len() {
        match file.read(&mut buf[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read)
}
