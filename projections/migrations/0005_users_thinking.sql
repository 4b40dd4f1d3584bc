-- The user's thinking level (users.thinking_changed), so a thread worker that seeds its view
-- of a user from this row gets the level too, not only the model and personality.
ALTER TABLE users ADD COLUMN thinking text;
