"""The table from command class to the function that applies it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.core import chat_commands as cc
from studio.core import commands as c
from studio.core.handlers import assets, chat, generate, organize, variants
from studio.core.tx import Tx

Handler = Callable[[Tx, Any], tuple[c.Command, ...]]

HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateAsset: assets.create_asset,
    c.UpdateAsset: assets.update_asset,
    c.DeleteAsset: assets.delete_asset,
    c.RestoreAsset: assets.restore_asset,
    c.SetActiveVariant: assets.set_active_variant,
    c.ReparentAsset: assets.reparent_asset,
    c.MoveAssets: assets.move_assets,
    c.StarVariant: variants.star_variant,
    c.RateVariant: variants.rate_variant,
    c.DeleteVariant: variants.delete_variant,
    c.RestoreVariant: variants.restore_variant,
    c.ForkVariant: variants.fork_variant,
    c.BeginUpload: variants.begin_upload,
    c.CompleteVariant: variants.complete_variant,
    c.FailVariant: variants.fail_variant,
    c.SeverLineage: variants.sever_lineage,
    c.RestoreLineage: variants.restore_lineage,
    c.CreateCollection: organize.create_collection,
    c.UpdateCollection: organize.update_collection,
    c.DeleteCollection: organize.delete_collection,
    c.RestoreCollection: organize.restore_collection,
    c.AddCollectionItem: organize.add_collection_item,
    c.UpdateCollectionItem: organize.update_collection_item,
    c.RemoveCollectionItem: organize.remove_collection_item,
    c.RestoreCollectionItem: organize.restore_collection_item,
    c.ReorderCollection: organize.reorder_collection,
    c.CreateFrame: organize.create_frame,
    c.UpdateFrame: organize.update_frame,
    c.DeleteFrame: organize.delete_frame,
    c.RestoreFrame: organize.restore_frame,
    c.CreateStylePreset: organize.create_style,
    c.UpdateStylePreset: organize.update_style,
    c.DeleteStylePreset: organize.delete_style,
    c.RestoreStylePreset: organize.restore_style,
    c.RequestGeneration: generate.request_generation,
    c.RequestRefine: generate.request_refine,
    c.RequestBatch: generate.request_batch,
    c.RetryVariant: generate.retry_variant,
    c.RegenerateVariant: generate.regenerate_variant,
    c.CancelJob: generate.cancel_job,
    c.PauseQueue: generate.pause_queue,
    c.ResumeQueue: generate.resume_queue,
    c.StartJob: generate.start_job,
    c.CompleteJob: generate.complete_job,
    c.FailJob: generate.fail_job,
    c.RequeueJob: generate.requeue_job,
    cc.CreateChatSession: chat.create_session,
    cc.RenameChatSession: chat.rename_session,
    cc.DeleteChatSession: chat.delete_session,
    cc.RestoreChatSession: chat.restore_session,
    cc.AddChatMessage: chat.add_message,
    cc.CreateProposal: chat.create_proposal,
    cc.ApproveProposal: chat.approve_proposal,
    cc.RejectProposal: chat.reject_proposal,
    cc.RunProposal: chat.run_proposal,
    cc.AllowAssistantTool: chat.allow_tool,
    cc.SetAssistantCap: chat.set_cap,
    cc.FillTray: chat.fill_tray,
}

chat.use_handlers(HANDLERS)  # proposal:run applies a proposal's commands with it
