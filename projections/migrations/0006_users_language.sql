-- The language the user chose with /language (users.language_changed; NULL: their Telegram
-- language_code decides), read by the gateway, the payments process and the thread worker.
ALTER TABLE users ADD COLUMN language text;
