//! Acknowledging a notification through its personal link: the path token is the only credential.

use super::{AppError, AppResult};
use crate::notify::worker::{self, AckOutcome};
use crate::state::AppState;

/// Records the acknowledgement (name, and for the police their reference) once; a used or expired token
/// is `Gone`, an unknown one `Unknown`.
pub async fn record(
    st: &AppState,
    token: &str,
    name: String,
    reference: Option<String>,
    ip: Option<String>,
) -> AppResult<AckOutcome> {
    let now = st.clock.now();
    let t = token.to_string();
    let out = st
        .db
        .run(move |c| worker::acknowledge(c, &t, &name, reference.as_deref(), ip, now).map_err(AppError::from))
        .await?;
    Ok(out)
}
