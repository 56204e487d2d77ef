/** The page numbers of a list reply, as db-service sends them. */
interface PageInfo {
  page?: number | null;
  pageSize?: number | null;
  total?: number | null;
}

/**
 * A list reply as the HTTP API pages it: each item as its DTO, and db-service's page numbers, or
 * the asked ones where it sent none (proto3 leaves out zero values).
 */
export function pagedReply<Item, Dto>(
  reply: { items: Item[]; page?: PageInfo | null },
  asked: { page: number; pageSize: number },
  toDto: (item: Item) => Dto,
): { items: Dto[]; page: number; pageSize: number; total: number } {
  return {
    items: reply.items.map(toDto),
    page: reply.page?.page ?? asked.page,
    pageSize: reply.page?.pageSize ?? asked.pageSize,
    total: reply.page?.total ?? 0,
  };
}
