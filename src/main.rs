//! The `saknad` command: `serve` (default), `migrate`, `create-admin`.

use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "saknad", version, about = "Saknad – when an unaccompanied child disappears from care")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default). Pending migrations run first.
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Create an admin user; the password is read from the first line of standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("saknad: {msg}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let figment = saknad::config::Settings::figment();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(figment),
        Command::Migrate => {
            let settings = match saknad::config::Settings::from_figment(&figment) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            match saknad::open_database(&settings) {
                Ok(_) => {
                    println!("saknad: database is up to date");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::CreateAdmin { email, name } => {
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).is_err() {
                return fail("could not read the password from standard input");
            }
            let password = line.trim_end_matches(['\r', '\n']).to_string();
            match saknad::cli::create_admin(&figment, &email, &name, &password) {
                Ok(id) => {
                    println!("saknad: admin user {id} created");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

fn serve(figment: rocket::figment::Figment) -> ExitCode {
    let rt = match rocket::tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    // Built inside the runtime: the SMTP connection pool needs it.
    rt.block_on(async move {
        let rocket = match saknad::build(figment) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        match rocket.launch().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(format!("cannot start the server: {e}")),
        }
    })
}
