//! Bulgarian (the brief's language, and the default) and English. Every sentence the UI
//! shows lives here, both languages side by side. Pure code.
//!
//! Counts: both languages have two plural forms (CLDR "one" for exactly 1, "other" for
//! every other number, 0 included), so each counted sentence says which it is without
//! `Intl.PluralRules` and its cost in the download.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Bg,
    En,
}

impl Lang {
    /// From a BCP 47 tag such as `navigator.language`; Bulgarian unless it is English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Bg
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Bg => "bg",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Bg => Lang::En,
            Lang::En => Lang::Bg,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    SignInTitle,
    Email,
    Password,
    SignIn,
    SigningIn,
    InvalidCredentials,
    NetworkError,
    ServerError,
    SessionExpired,
    SignOut,
    Conversations,
    NoConversations,
    PickConversation,
    NoMessagesYet,
    ComposerPlaceholder,
    Send,
    DraftEmpty,
    Sending,
    Sent,
    Read,
    NotSent,
    Retry,
    Delete,
    Edit,
    Edited,
    MessageDeleted,
    EditingMessage,
    DeleteForEveryone,
    MessageActions,
    EditTooLate,
    Mute,
    Pin,
    Muted,
    Pinned,
    Reply,
    ReplyingTo,
    EarlierMessage,
    RetryConnection,
    Subscribing,
    Subscribed,
    ChannelError,
    TimedOut,
    ChannelClosed,
    NotAllowed,
    You,
    Back,
    Trainer,
    Client,
    SwitchLanguage,
    Loading,
    BackupOff,
    InboxLive,
    InboxConnecting,
    InboxDown,
    SignOutAnyway,
    Cancel,
    Online,
    NotificationsAsk,
    NotificationsOn,
    NotificationsOff,
    NotificationsBlocked,
    Today,
    Yesterday,
    UnreadMessages,
    OlderMessages,
    LoadingOlder,
    ConversationStart,
    Messages,
    DarkTheme,
    SearchByName,
    NobodyFound,
    Diagnostics,
    Copy,
    Copied,
    CreateAccount,
    CreateYourAccount,
    Name,
    SignUp,
    SigningUp,
    ToSignUp,
    ToSignIn,
    ConfirmEmail,
    EmailTaken,
    WeakPassword,
    InvalidEmail,
    NameMissing,
    TooManyTries,
    Invited,
    InvitationNotFound,
    InvitationUsed,
    InvitationExpired,
    InvitationRevoked,
    InvitationOwn,
    TooManyInvitations,
    InviteClient,
    ClientEmail,
    CreateInvitation,
    InvitationLink,
    PendingInvitations,
    NoEmail,
    Revoke,
    Close,
    Account,
    NewPassword,
    Save,
    Saved,
    Announce,
    AnnouncementText,
    Recipients,
    AllClients,
    ChooseRecipients,
    ForgotPassword,
    RecoverTitle,
    SendRecovery,
    RecoveryMailed,
    SetNewPassword,
    LinkInvalid,
}

impl Text {
    pub fn get(self, lang: Lang) -> &'static str {
        let (bg, en) = match self {
            Text::SignInTitle => ("Вход в Coach Chat", "Sign in to Coach Chat"),
            Text::Email => ("Имейл", "Email"),
            Text::Password => ("Парола", "Password"),
            Text::SignIn => ("Вход", "Sign in"),
            Text::SigningIn => ("Влизане…", "Signing in…"),
            Text::InvalidCredentials => ("Грешен имейл или парола.", "Wrong email or password."),
            Text::NetworkError => (
                "Няма връзка със сървъра. Проверете интернета и опитайте отново.",
                "Cannot reach the server. Check your connection and try again.",
            ),
            Text::ServerError => (
                "Нещо се обърка на сървъра. Опитайте отново.",
                "Something went wrong on the server. Please try again.",
            ),
            Text::SessionExpired => (
                "Сесията изтече. Влезте отново.",
                "Your session has expired. Please sign in again.",
            ),
            Text::SignOut => ("Изход", "Sign out"),
            Text::Conversations => ("Разговори", "Conversations"),
            Text::NoConversations => ("Все още нямате разговори.", "No conversations yet."),
            Text::PickConversation => ("Изберете разговор.", "Choose a conversation."),
            Text::NoMessagesYet => (
                "Няма съобщения. Напишете първото!",
                "No messages yet. Say hello!",
            ),
            Text::ComposerPlaceholder => ("Напишете съобщение…", "Write a message…"),
            Text::Send => ("Изпрати", "Send"),
            Text::DraftEmpty => ("Съобщението е празно.", "The message is empty."),
            Text::Sending => ("Изпраща се", "Sending"),
            Text::Sent => ("Изпратено", "Sent"),
            Text::Read => ("Прочетено", "Read"),
            Text::NotSent => ("Не е изпратено", "Not sent"),
            Text::Retry => ("Опитай пак", "Retry"),
            Text::Delete => ("Изтрий", "Delete"),
            Text::Edit => ("Редактирай", "Edit"),
            Text::Edited => ("редактирано", "edited"),
            Text::MessageDeleted => ("Съобщението е изтрито", "Message deleted"),
            Text::EditingMessage => ("Редактиране на съобщение", "Editing a message"),
            Text::DeleteForEveryone => ("Изтрий за всички", "Delete for everyone"),
            Text::MessageActions => ("Действия със съобщението", "Message actions"),
            Text::Mute => ("Заглуши", "Mute"),
            Text::Pin => ("Закачи", "Pin"),
            Text::Muted => ("заглушен", "muted"),
            Text::Pinned => ("закачен", "pinned"),
            Text::Reply => ("Отговори", "Reply"),
            Text::ReplyingTo => ("В отговор на", "Replying to"),
            Text::EarlierMessage => ("По-ранно съобщение", "An earlier message"),
            Text::EditTooLate => (
                "Съобщение може да се редактира до 15 минути след изпращането.",
                "A message can be edited for 15 minutes after it was sent.",
            ),
            Text::RetryConnection => ("Свържи отново", "Reconnect"),
            Text::Subscribing => ("Свързване…", "Connecting…"),
            // About the connection, not the person: "на линия" is what presence says.
            Text::Subscribed => ("Свързано", "Connected"),
            Text::ChannelError => (
                "Връзката прекъсна. Свързваме се отново…",
                "Connection lost. Reconnecting…",
            ),
            Text::TimedOut => (
                "Сървърът не отговаря. Опитваме отново…",
                "The server is not answering. Retrying…",
            ),
            Text::ChannelClosed => ("Връзката е затворена.", "Connection closed."),
            Text::NotAllowed => (
                "Нямате достъп до този разговор.",
                "You do not have access to this conversation.",
            ),
            Text::You => ("Вие", "You"),
            Text::Back => ("Назад", "Back"),
            Text::Trainer => ("Треньор", "Trainer"),
            Text::Client => ("Клиент", "Client"),
            Text::SwitchLanguage => ("English", "Български"),
            Text::Loading => ("Зареждане…", "Loading…"),
            Text::BackupOff => (
                "Резервната доставка не работи; съобщенията идват само на живо.",
                "Backup delivery is off; messages arrive only live.",
            ),
            Text::InboxLive => ("На живо", "Live"),
            Text::InboxConnecting => ("Свързване…", "Connecting…"),
            Text::InboxDown => (
                "Без връзка на живо — списъкът може да закъснява.",
                "Not live — the list may lag behind.",
            ),
            Text::SignOutAnyway => ("Изход въпреки това", "Sign out anyway"),
            Text::Cancel => ("Отказ", "Cancel"),
            Text::Online => ("на линия", "online"),
            Text::NotificationsAsk => ("Включи известията", "Turn on notifications"),
            Text::NotificationsOn => ("Известия: вкл.", "Notifications: on"),
            Text::NotificationsOff => ("Известия: изкл.", "Notifications: off"),
            Text::NotificationsBlocked => (
                "Известията са блокирани в браузъра",
                "Notifications are blocked in the browser",
            ),
            Text::Today => ("Днес", "Today"),
            Text::Yesterday => ("Вчера", "Yesterday"),
            Text::UnreadMessages => ("Непрочетени съобщения", "Unread messages"),
            Text::OlderMessages => ("По-стари съобщения", "Older messages"),
            Text::LoadingOlder => ("Зареждане на по-стари…", "Loading older…"),
            Text::Messages => ("Съобщения", "Messages"),
            Text::DarkTheme => ("Тъмна тема", "Dark theme"),
            Text::Diagnostics => ("Диагностика", "Diagnostics"),
            Text::Copy => ("Копирай", "Copy"),
            Text::Copied => ("Копирано", "Copied"),
            Text::SearchByName => ("Търсене на хора и съобщения", "Search people and messages"),
            Text::NobodyFound => (
                "Никой не отговаря на търсенето.",
                "Nobody matches the search.",
            ),
            Text::ConversationStart => ("Началото на разговора", "Start of the conversation"),
            Text::CreateAccount => ("Нов профил на треньор", "New trainer account"),
            Text::CreateYourAccount => ("Създайте своя профил", "Create your account"),
            Text::Name => ("Име", "Name"),
            Text::SignUp => ("Създай профил", "Create account"),
            Text::SigningUp => ("Създава се…", "Creating…"),
            Text::ToSignUp => ("Нямате профил? Създайте", "No account yet? Create one"),
            Text::ToSignIn => ("Имате профил? Влезте", "Have an account? Sign in"),
            Text::ConfirmEmail => ("Изпратихме ви имейл. Потвърдете адреса си от връзката в него, после влезте.", "We sent you an email. Confirm your address with its link, then sign in."),
            Text::EmailTaken => ("Вече има профил с този имейл. Влезте с него.", "An account with this email already exists. Sign in with it."),
            Text::WeakPassword => ("Паролата е твърде кратка: поне 6 знака.", "The password is too short: at least 6 characters."),
            Text::InvalidEmail => ("Това не е валиден имейл адрес.", "That is not a valid email address."),
            Text::NameMissing => ("Напишете името си.", "Please enter your name."),
            Text::TooManyTries => ("Твърде много опити. Опитайте пак след малко.", "Too many attempts. Please try again shortly."),
            Text::Invited => ("Поканени сте от вашия треньор. Създайте профил или влезте и разговорът ви ще е готов.", "Your trainer has invited you. Create an account or sign in, and your conversation will be ready."),
            Text::InvitationNotFound => ("Тази покана не съществува. Проверете връзката или поискайте нова от треньора си.", "This invitation does not exist. Check the link or ask your trainer for a new one."),
            Text::InvitationUsed => ("Тази покана вече е използвана. Поискайте нова от треньора си.", "This invitation has already been used. Ask your trainer for a new one."),
            Text::InvitationExpired => ("Тази покана е изтекла. Поискайте нова от треньора си.", "This invitation has expired. Ask your trainer for a new one."),
            Text::InvitationRevoked => ("Треньорът е оттеглил тази покана. Поискайте нова.", "Your trainer has revoked this invitation. Ask for a new one."),
            Text::InvitationOwn => ("Това е ваша покана: изпратете връзката на клиента си.", "This is your own invitation: send the link to your client."),
            Text::TooManyInvitations => ("Имате твърде много чакащи покани. Оттеглете някоя.", "You have too many pending invitations. Revoke one first."),
            Text::InviteClient => ("Покани клиент", "Invite a client"),
            Text::ForgotPassword => ("Забравена парола?", "Forgot your password?"),
            Text::RecoverTitle => ("Нова парола", "Set a new password"),
            Text::SendRecovery => ("Изпрати връзка", "Send me a link"),
            Text::RecoveryMailed => (
                "Ако има профил с този имейл, изпратихме му писмо с връзка за нова парола.",
                "If an account has this email, we sent it a link to set a new password.",
            ),
            Text::SetNewPassword => (
                "Влязохте от връзката в писмото. Въведете нова парола и запазете.",
                "You are signed in from the email's link. Enter a new password and save.",
            ),
            Text::LinkInvalid => (
                "Връзката е използвана или е изтекла. Поискайте нова.",
                "This link was used or has expired. Ask for a new one.",
            ),
            Text::Announce => ("Обявление до клиенти", "Announce to clients"),
            Text::AnnouncementText => ("Текст (всеки получава свое съобщение)", "Text (each gets their own message)"),
            Text::Recipients => ("До", "To"),
            Text::AllClients => ("Всички клиенти", "All clients"),
            Text::ChooseRecipients => ("Изберете поне един клиент.", "Choose at least one client."),
            Text::ClientEmail => ("Имейл на клиента (по желание)", "Client's email (optional)"),
            Text::CreateInvitation => ("Създай връзка", "Create link"),
            Text::InvitationLink => ("Изпратете тази връзка на клиента си. Важи веднъж, 7 дни.", "Send this link to your client. It works once, for 7 days."),
            Text::PendingInvitations => ("Чакащи покани", "Pending invitations"),
            Text::NoEmail => ("без имейл", "no email"),
            Text::Revoke => ("Оттегли", "Revoke"),
            Text::Close => ("Затвори", "Close"),
            Text::Account => ("Профил", "Account"),
            Text::NewPassword => ("Нова парола", "New password"),
            Text::Save => ("Запази", "Save"),
            Text::Saved => ("Запазено.", "Saved."),
        };
        match lang {
            Lang::Bg => bg,
            Lang::En => en,
        }
    }
}

/// "4012 of 4000 characters — too long".
pub fn draft_too_long(lang: Lang, chars: usize, limit: usize) -> String {
    match lang {
        Lang::Bg => format!("Съобщението е твърде дълго: {chars} от най-много {limit} знака."),
        Lang::En => format!("The message is too long: {chars} of at most {limit} characters."),
    }
}

/// Shown as the limit approaches.
pub fn chars_left(lang: Lang, left: usize) -> String {
    match (lang, left == 1) {
        (Lang::Bg, true) => "Остава 1 знак".into(),
        (Lang::Bg, false) => format!("Остават {left} знака"),
        (Lang::En, true) => "1 character left".into(),
        (Lang::En, false) => format!("{left} characters left"),
    }
}

/// Signing out deletes what has not been sent yet: the person is asked first.
pub fn unsent_lost_on_sign_out(lang: Lang, count: usize) -> String {
    match (lang, count == 1) {
        (Lang::Bg, true) => "1 неизпратено съобщение ще бъде изтрито от това устройство.".into(),
        (Lang::Bg, false) => {
            format!("{count} неизпратени съобщения ще бъдат изтрити от това устройство.")
        }
        (Lang::En, true) => "1 unsent message will be deleted from this device.".into(),
        (Lang::En, false) => format!("{count} unsent messages will be deleted from this device."),
    }
}

/// Next to a connection that is not live: "(3 messages waiting to be sent)".
pub fn messages_waiting(lang: Lang, count: usize) -> String {
    match (lang, count == 1) {
        (Lang::Bg, true) => "(1 съобщение чака изпращане)".into(),
        (Lang::Bg, false) => format!("({count} съобщения чакат изпращане)"),
        (Lang::En, true) => "(1 message waiting to be sent)".into(),
        (Lang::En, false) => format!("({count} messages waiting to be sent)"),
    }
}

/// On the sign-in form after the server ended a session.
pub fn unsent_waiting(lang: Lang, count: usize) -> String {
    match (lang, count == 1) {
        (Lang::Bg, true) => "1 неизпратено съобщение ще бъде изпратено, щом влезете.".into(),
        (Lang::Bg, false) => {
            format!("{count} неизпратени съобщения ще бъдат изпратени, щом влезете.")
        }
        (Lang::En, true) => "1 unsent message will be sent once you sign in.".into(),
        (Lang::En, false) => format!("{count} unsent messages will be sent once you sign in."),
    }
}

/// "last seen 5 minutes ago", given "5 minutes ago" from `Intl.RelativeTimeFormat`.
pub fn last_seen(lang: Lang, ago: &str) -> String {
    match lang {
        Lang::Bg => format!("последно на линия {ago}"),
        Lang::En => format!("last seen {ago}"),
    }
}

/// "Ivan is typing…".
pub fn typing(lang: Lang, name: &str) -> String {
    match lang {
        Lang::Bg => format!("{name} пише…"),
        Lang::En => format!("{name} is typing…"),
    }
}

/// The pill over the composer when messages arrived below what is being read.
pub fn new_below(lang: Lang, count: usize) -> String {
    match (lang, count) {
        (Lang::Bg, 1) => "1 ново съобщение ↓".into(),
        (Lang::Bg, _) => format!("{count} нови съобщения ↓"),
        (Lang::En, 1) => "1 new message ↓".into(),
        (Lang::En, _) => format!("{count} new messages ↓"),
    }
}

pub fn unread(lang: Lang, count: i64) -> String {
    match (lang, count == 1) {
        (Lang::Bg, true) => "1 непрочетено".into(),
        (Lang::Bg, false) => format!("{count} непрочетени"),
        (Lang::En, _) => format!("{count} unread"),
    }
}

/// The announcement's send button: "Изпрати до 3".
pub fn send_to(lang: Lang, count: usize) -> String {
    match lang {
        Lang::Bg => format!("Изпрати до {count}"),
        Lang::En => format!("Send to {count}"),
    }
}

/// How far an announcement's copies have got: stored, still going, given up on.
pub fn announcement_progress(lang: Lang, sent: usize, waiting: usize, failed: usize) -> String {
    let total = sent + waiting + failed;
    match (lang, waiting, failed) {
        (Lang::Bg, 0, 0) if total == 1 => "Изпратено до 1 клиент.".into(),
        (Lang::Bg, 0, 0) => format!("Изпратено до {total} клиента."),
        (Lang::En, 0, 0) if total == 1 => "Sent to 1 client.".into(),
        (Lang::En, 0, 0) => format!("Sent to {total} clients."),
        (Lang::Bg, _, 0) => format!("Изпраща се… {sent} от {total}"),
        (Lang::En, _, 0) => format!("Sending… {sent} of {total}"),
        (Lang::Bg, _, _) => format!(
            "Изпратено до {sent} от {total}; {failed} не тръгнаха — опитайте пак от разговора."
        ),
        (Lang::En, _, _) => format!(
            "Sent to {sent} of {total}; {failed} did not go — retry them from their conversation."
        ),
    }
}

/// Beside a pending invitation: "валидна до 4.12 18:00".
pub fn valid_until(lang: Lang, when: &str) -> String {
    match lang {
        Lang::Bg => format!("валидна до {when}"),
        Lang::En => format!("valid until {when}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_follows_the_browser_with_bulgarian_as_default() {
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("bg-BG"), Lang::Bg);
        assert_eq!(Lang::from_tag("de"), Lang::Bg);
        assert_eq!(Lang::Bg.other(), Lang::En);
    }

    #[test]
    fn both_languages_differ_for_every_sentence_but_the_names() {
        assert_eq!(
            Text::InvalidCredentials.get(Lang::Bg),
            "Грешен имейл или парола."
        );
        assert_eq!(
            Text::InvalidCredentials.get(Lang::En),
            "Wrong email or password."
        );
        assert!(draft_too_long(Lang::Bg, 4001, 4000).contains("4001"));
        assert_eq!(
            announcement_progress(Lang::Bg, 3, 0, 0),
            "Изпратено до 3 клиента."
        );
        assert_eq!(
            announcement_progress(Lang::En, 1, 0, 0),
            "Sent to 1 client."
        );
        assert_eq!(announcement_progress(Lang::En, 1, 2, 0), "Sending… 1 of 3");
        assert!(announcement_progress(Lang::Bg, 2, 0, 1).starts_with("Изпратено до 2 от 3; 1"));
        assert!(chars_left(Lang::En, 12).starts_with("12"));
        assert!(unsent_waiting(Lang::Bg, 3).starts_with("3 неизпратени"));
        assert!(unsent_lost_on_sign_out(Lang::En, 2).starts_with("2 unsent"));
        assert_eq!(new_below(Lang::Bg, 1), "1 ново съобщение ↓");
        assert_eq!(new_below(Lang::Bg, 3), "3 нови съобщения ↓");
        assert_eq!(new_below(Lang::En, 1), "1 new message ↓");
        assert_eq!(new_below(Lang::En, 2), "2 new messages ↓");
    }

    #[test]
    fn counted_sentences_agree_with_their_number() {
        assert_eq!(chars_left(Lang::Bg, 1), "Остава 1 знак");
        assert_eq!(chars_left(Lang::Bg, 0), "Остават 0 знака");
        assert_eq!(chars_left(Lang::En, 1), "1 character left");
        assert!(unsent_waiting(Lang::Bg, 1).starts_with("1 неизпратено съобщение ще бъде"));
        assert!(unsent_waiting(Lang::En, 1).starts_with("1 unsent message will"));
        assert!(unsent_lost_on_sign_out(Lang::Bg, 1).starts_with("1 неизпратено"));
        assert!(unsent_lost_on_sign_out(Lang::En, 21).starts_with("21 unsent messages"));
        assert_eq!(unread(Lang::Bg, 1), "1 непрочетено");
        assert_eq!(
            messages_waiting(Lang::Bg, 3),
            "(3 съобщения чакат изпращане)"
        );
        assert_eq!(
            messages_waiting(Lang::En, 1),
            "(1 message waiting to be sent)"
        );
        assert_eq!(unread(Lang::Bg, 11), "11 непрочетени");
    }

    /// Every `Text` variant, for the test below (which checks this list is whole).
    const ALL: &[Text] = &[
        Text::SignInTitle,
        Text::Email,
        Text::Password,
        Text::SignIn,
        Text::SigningIn,
        Text::InvalidCredentials,
        Text::NetworkError,
        Text::ServerError,
        Text::SessionExpired,
        Text::SignOut,
        Text::Conversations,
        Text::NoConversations,
        Text::PickConversation,
        Text::NoMessagesYet,
        Text::ComposerPlaceholder,
        Text::Send,
        Text::DraftEmpty,
        Text::Sending,
        Text::Sent,
        Text::Read,
        Text::NotSent,
        Text::Retry,
        Text::Delete,
        Text::Edit,
        Text::Edited,
        Text::MessageDeleted,
        Text::EditingMessage,
        Text::DeleteForEveryone,
        Text::MessageActions,
        Text::EditTooLate,
        Text::Mute,
        Text::Pin,
        Text::Muted,
        Text::Pinned,
        Text::Reply,
        Text::ReplyingTo,
        Text::EarlierMessage,
        Text::RetryConnection,
        Text::Subscribing,
        Text::Subscribed,
        Text::ChannelError,
        Text::TimedOut,
        Text::ChannelClosed,
        Text::NotAllowed,
        Text::You,
        Text::Back,
        Text::Trainer,
        Text::Client,
        Text::SwitchLanguage,
        Text::Loading,
        Text::BackupOff,
        Text::InboxLive,
        Text::InboxConnecting,
        Text::InboxDown,
        Text::SignOutAnyway,
        Text::Cancel,
        Text::Online,
        Text::NotificationsAsk,
        Text::NotificationsOn,
        Text::NotificationsOff,
        Text::NotificationsBlocked,
        Text::Today,
        Text::Yesterday,
        Text::UnreadMessages,
        Text::OlderMessages,
        Text::LoadingOlder,
        Text::ConversationStart,
        Text::Messages,
        Text::DarkTheme,
        Text::SearchByName,
        Text::NobodyFound,
        Text::Diagnostics,
        Text::Copy,
        Text::Copied,
        Text::CreateAccount,
        Text::CreateYourAccount,
        Text::Name,
        Text::SignUp,
        Text::SigningUp,
        Text::ToSignUp,
        Text::ToSignIn,
        Text::ConfirmEmail,
        Text::EmailTaken,
        Text::WeakPassword,
        Text::InvalidEmail,
        Text::NameMissing,
        Text::TooManyTries,
        Text::Invited,
        Text::InvitationNotFound,
        Text::InvitationUsed,
        Text::InvitationExpired,
        Text::InvitationRevoked,
        Text::InvitationOwn,
        Text::TooManyInvitations,
        Text::InviteClient,
        Text::ClientEmail,
        Text::CreateInvitation,
        Text::InvitationLink,
        Text::PendingInvitations,
        Text::NoEmail,
        Text::Revoke,
        Text::Close,
        Text::Account,
        Text::NewPassword,
        Text::Save,
        Text::Saved,
        Text::Announce,
        Text::AnnouncementText,
        Text::Recipients,
        Text::AllClients,
        Text::ChooseRecipients,
        Text::ForgotPassword,
        Text::RecoverTitle,
        Text::SendRecovery,
        Text::RecoveryMailed,
        Text::SetNewPassword,
        Text::LinkInvalid,
    ];

    #[test]
    fn every_sentence_has_both_languages_and_is_used() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let source = std::fs::read_to_string(here.join("i18n.rs")).unwrap();
        let declared: Vec<&str> = source
            .split("pub enum Text {")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .unwrap()
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        let listed: Vec<String> = ALL.iter().map(|text| format!("{text:?}")).collect();
        assert_eq!(listed, declared, "ALL lists every variant, in order");
        for text in ALL {
            let (bg, en) = (text.get(Lang::Bg), text.get(Lang::En));
            assert!(
                !bg.trim().is_empty() && !en.trim().is_empty(),
                "{text:?} is empty"
            );
            assert_ne!(bg, en, "{text:?} is not translated");
        }
        let mut code = String::new();
        let mut folders = vec![here];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs")
                {
                    code.push_str(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let unused: Vec<&&str> = declared
            .iter()
            .filter(|name| {
                let used = format!("Text::{name}");
                !code.match_indices(&used).any(|(at, _)| {
                    let next = code[at + used.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            })
            .collect();
        assert!(unused.is_empty(), "sentences nobody shows: {unused:?}");
    }
}
