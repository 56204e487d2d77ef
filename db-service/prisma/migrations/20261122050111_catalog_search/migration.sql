/*
  Warnings:

  - A unique constraint covering the columns `[name_key]` on the table `categories` will be added. If there are existing duplicate values, this will fail.

*/
-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateIndex
CREATE UNIQUE INDEX "categories_root_name_key_key" ON "categories"("name_key") WHERE (parent_id IS NULL);

-- CreateIndex
CREATE INDEX "products_name_trgm_idx" ON "products" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "products_description_trgm_idx" ON "products" USING GIN ("description" gin_trgm_ops);
