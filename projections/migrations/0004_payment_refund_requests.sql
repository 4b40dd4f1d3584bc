-- A refund request (and a declined one) is written by the *requester's* partition, which may
-- not be the payer's: its columns get their own guard, so a request for someone else's charge
-- id can neither change the payment's status nor, through a larger offset of another
-- partition, hide the payer's later updates behind the row's guard.
ALTER TABLE payments ADD COLUMN refund_request_offset bigint;
