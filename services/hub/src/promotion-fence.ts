// Why a promotion step stopped without failing: this replica may no longer advance the promotion.
// Several hub replicas share one database; only the leader promotes, and a step still in flight on
// a replica that just lost the lease must leave everything — the Git push and the promotion's rows
// — to the new leader (docs/ha.md#the-promotion-fence). Such a step is state, not a failure: it is
// logged, costs no attempt, and the leader carries the promotion on from Postgres.
import { ErrorCode, FlotillaError } from "@flotilla/model";

/** What refused the step: the lease (this replica no longer leads) or the row (another writer
 * updated the promotion since this step read it). */
export type PromotionFence = "lease" | "version";

export class PromotionFencedError extends FlotillaError {
  override readonly name = "PromotionFencedError";
  constructor(
    readonly promotion: string,
    readonly by: PromotionFence,
    /** The write that was refused ("push wave 2 commit", "record state", …). */
    readonly write: string,
  ) {
    super(
      by === "lease" ? ErrorCode.NotLeader : ErrorCode.PromotionState,
      by === "lease"
        ? `promotion ${promotion}: ${write} refused: this hub no longer leads; the leader carries the promotion on`
        : `promotion ${promotion}: ${write} refused: the promotion changed since this step read it; the next step reads it again`,
    );
  }
}
