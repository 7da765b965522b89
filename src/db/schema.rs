//! The portable schema: one hand-written description of the tables that both backends' migrations create.

diesel::table! {
    counties (code) {
        code -> Text,
        letter -> Text,
        name -> Text,
        police_email -> Nullable<Text>,
        police_fallback_email -> Nullable<Text>,
        migrationsverket_email -> Nullable<Text>,
        trafficking_coordinator_email -> Nullable<Text>,
        county_email -> Nullable<Text>,
        police_delivery -> Nullable<Text>,
        social_services_delivery -> Nullable<Text>,
        on_call_delivery -> Nullable<Text>,
        guardian_delivery -> Nullable<Text>,
        migrationsverket_delivery -> Nullable<Text>,
        assigning_municipality_delivery -> Nullable<Text>,
        trafficking_coordinator_delivery -> Nullable<Text>,
        allowed_email_domains -> Text,
    }
}

diesel::table! {
    municipalities (code) {
        code -> Text,
        name -> Text,
        county_code -> Text,
        social_services_email -> Nullable<Text>,
        on_call_email -> Nullable<Text>,
    }
}

diesel::table! {
    accommodations (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        municipality_code -> Text,
        phone -> Text,
        email -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        county_code -> Nullable<Text>,
        municipality_code -> Nullable<Text>,
        accommodation_id -> Nullable<BigInt>,
        security_stamp -> Text,
        active -> Bool,
        language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        municipality_codes -> Text,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        oidc_subject -> Nullable<Text>,
        failed_logins -> Integer,
        last_failed_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        last_hash -> Text,
        chain_id -> Text,
        keyed_from_seq -> BigInt,
    }
}

diesel::table! {
    access_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor_role -> Nullable<Text>,
        action -> Text,
        object_kind -> Nullable<Text>,
        object_id -> Nullable<Text>,
        county_code -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(municipalities -> counties (county_code));
diesel::joinable!(accommodations -> municipalities (municipality_code));
diesel::joinable!(users -> accommodations (accommodation_id));

diesel::table! {
    children (id) {
        id -> BigInt,
        given_name -> Text,
        family_name -> Text,
        aliases -> Text,
        date_of_birth -> Date,
        date_of_birth_estimated -> Bool,
        sex -> Text,
        nationality -> Nullable<Text>,
        languages -> Text,
        dossier_number -> Nullable<Text>,
        asylum_status -> Nullable<Text>,
        responsible_municipality_code -> Text,
        assigning_municipality_code -> Nullable<Text>,
        social_worker_id -> Nullable<BigInt>,
        guardian_name -> Nullable<Text>,
        guardian_email -> Nullable<Text>,
        guardian_phone -> Nullable<Text>,
        guardian_language -> Nullable<Text>,
        preparedness -> Text,
        pseudonymised_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        preparedness_reviewed_at -> Nullable<Timestamp>,
        asylum_decision_date -> Nullable<Date>,
        asylum_decision_outcome -> Nullable<Text>,
        asylum_decision_recorded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    placements (id) {
        id -> BigInt,
        child_id -> BigInt,
        accommodation_id -> BigInt,
        from_at -> Timestamp,
        to_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    child_photos (child_id) {
        child_id -> BigInt,
        content_type -> Text,
        data -> Binary,
        uploaded_at -> Timestamp,
        uploaded_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    routine_versions (id) {
        id -> BigInt,
        county_code -> Text,
        version -> Integer,
        definition -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    reference_counters (county_code, year) {
        county_code -> Text,
        year -> Integer,
        last_seq -> Integer,
    }
}

diesel::table! {
    episodes (id) {
        id -> BigInt,
        reference -> Text,
        county_code -> Text,
        municipality_code -> Text,
        responsible_municipality_code -> Text,
        accommodation_id -> Nullable<BigInt>,
        child_id -> BigInt,
        routine_version_id -> BigInt,
        status -> Text,
        discovered_at -> Timestamp,
        last_seen_at -> Timestamp,
        report -> Text,
        whereabouts_known -> Bool,
        risk_level -> Text,
        risk_indicators -> Text,
        risk_assessed -> Bool,
        police_reference -> Nullable<Text>,
        found_at -> Nullable<Timestamp>,
        found_details -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        closure_reason -> Nullable<Text>,
        closure_note -> Nullable<Text>,
        reported_by -> Nullable<BigInt>,
        child_age_years -> Integer,
        child_sex -> Text,
        child_nationality -> Nullable<Text>,
        accommodation_kind -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        review_due_at -> Nullable<Timestamp>,
        turned_18_prompted_at -> Nullable<Timestamp>,
        police_seconds -> Nullable<BigInt>,
    }
}

diesel::table! {
    step_day_stats (county_code, day, key) {
        county_code -> Text,
        day -> Date,
        key -> Text,
        done_on_time -> BigInt,
        done_late -> BigInt,
        skipped -> BigInt,
        within_72h -> BigInt,
    }
}

diesel::table! {
    episode_steps (id) {
        id -> BigInt,
        episode_id -> BigInt,
        key -> Text,
        position -> Integer,
        title_sv -> Text,
        title_en -> Text,
        responsible -> Text,
        phase -> Text,
        required -> Bool,
        due_at -> Timestamp,
        status -> Text,
        completed_at -> Nullable<Timestamp>,
        completed_by -> Nullable<BigInt>,
        note -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    episode_events (id) {
        id -> BigInt,
        episode_id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        actor_user_id -> Nullable<BigInt>,
        actor_role -> Nullable<Text>,
        actor_name -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    return_conversations (episode_id) {
        episode_id -> BigInt,
        outcome -> Text,
        held_at -> Nullable<Timestamp>,
        conducted_by -> Nullable<Text>,
        interpreter_used -> Bool,
        reasons -> Text,
        exploitation_indicators -> Text,
        stayed_with -> Nullable<Text>,
        actions -> Nullable<Text>,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    risk_assessments (id) {
        id -> BigInt,
        episode_id -> BigInt,
        level -> Text,
        suggested_level -> Text,
        indicators -> Text,
        note -> Nullable<Text>,
        assessed_by -> Nullable<BigInt>,
        assessed_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        episode_id -> BigInt,
        kind -> Text,
        recipient_kind -> Text,
        address -> Text,
        language -> Text,
        status -> Text,
        step_key -> Nullable<Text>,
        ack_required -> Bool,
        ack_nonce -> Nullable<Text>,
        ack_token_hash -> Nullable<Text>,
        ack_expires_at -> Nullable<Timestamp>,
        ack_due_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        ack_reference -> Nullable<Text>,
        escalated_at -> Nullable<Timestamp>,
        escalation_of -> Nullable<BigInt>,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        smtp_reply -> Nullable<Text>,
        last_error -> Nullable<Text>,
        message_id -> Text,
        created_at -> Timestamp,
        lock_owner -> Nullable<Text>,
        delivery_mode -> Nullable<Text>,
        gave_up_at -> Nullable<Timestamp>,
        escalation_level -> Integer,
        payload -> Nullable<Text>,
    }
}

diesel::table! {
    reminder_digests (address, day) {
        address -> Text,
        day -> Date,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(placements -> children (child_id));
diesel::joinable!(placements -> accommodations (accommodation_id));
diesel::joinable!(episodes -> children (child_id));
diesel::joinable!(episode_steps -> episodes (episode_id));
diesel::joinable!(episode_events -> episodes (episode_id));
diesel::joinable!(notifications -> episodes (episode_id));
diesel::joinable!(risk_assessments -> episodes (episode_id));
diesel::joinable!(return_conversations -> episodes (episode_id));

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        method -> Text,
        strong -> Bool,
        ip -> Nullable<Text>,
        agent -> Nullable<Text>,
        totp_pending -> Nullable<Text>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    credential_links (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        nonce -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_mail (id) {
        id -> BigInt,
        address -> Text,
        language -> Text,
        kind -> Text,
        params -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    sessions,
    recovery_codes,
    credential_links,
    account_mail,
    counties,
    municipalities,
    accommodations,
    users,
    audit_head,
    access_log,
    children,
    placements,
    child_photos,
    routine_versions,
    episodes,
    episode_steps,
    episode_events,
    notifications,
    risk_assessments,
    return_conversations,
);
