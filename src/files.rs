//! Files the server creates hold children's personal data or secrets (the SQLite database and its WAL, mail
//! written as `.eml`, generated keys): they are readable and writable by their owner only (API.md "Headers
//! and files"). SQLite creates its `-wal` and `-shm` files with the mode of the database file.

use std::path::Path;

/// Writes a new file that only its owner may read.
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    restrict(path)?;
    f.write_all(content)
}

/// Makes an existing file owner-only (a file from an older version, or created with a wider umask).
pub fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The SQLite database file, created empty and owner-only before SQLite opens it; an existing one and its
/// WAL are made owner-only.
pub fn prepare_database(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path)?;
    }
    restrict(path)?;
    for suffix in ["-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            restrict(&side)?;
        }
    }
    Ok(())
}

/// Appends a line to an owner-only file, creating it.
pub fn append_private(path: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = opts.open(path)?;
    writeln!(f, "{line}")
}
