-- When /clear deleted the thread's forum topic (thread.conversation_reset with
-- topic_deleted; NULL: the topic exists). A later thread.opened under the same key clears it.
-- Deleted topics are left out of a chat's topics (ReadModelViews.chat_topics).
ALTER TABLE threads ADD COLUMN deleted_at timestamptz;
