//! Embeds every Tera template under `templates/` in the binary: `$OUT_DIR/templates.rs` holds one list per
//! top-level folder (`PAGES`, `EMAIL`), each entry the template's name without `.tera` and its text, so a new
//! template cannot be forgotten in a hand-kept list.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "tera") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=templates");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut code = String::new();
    for (constant, folder) in [("PAGES", "pages"), ("EMAIL", "email")] {
        let mut files = Vec::new();
        collect(&root.join(folder), &mut files)?;
        files.sort();
        let _ = writeln!(code, "pub const {constant}: &[(&str, &str)] = &[");
        for f in files {
            let name = f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
            let name = name.trim_end_matches(".tera");
            let _ = writeln!(code, "    ({name:?}, include_str!({:?})),", f.display().to_string());
        }
        code.push_str("];\n");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("templates.rs");
    std::fs::write(out, code)
}
