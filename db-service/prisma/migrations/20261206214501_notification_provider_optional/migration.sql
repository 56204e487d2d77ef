-- A notification is queued before any transport has tried it: it names its provider from the first attempt on.
ALTER TABLE "notifications" ALTER COLUMN "provider" DROP NOT NULL;
