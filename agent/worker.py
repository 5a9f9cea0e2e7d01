"""The LiveKit worker: answers calls that LiveKit SIP dispatches to ``voicepay-inbound``.

LiveKit's server dispatches each call (a room with the SIP caller in it) to any worker that is
connected and not overloaded; each job runs in its own process. All shared state lives in Redis,
so workers scale by adding replicas. Dispatch is explicit by agent name: the SIP dispatch rule
names the agent (see ``docs/telephony.md``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tempfile
from pathlib import Path

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobProcess
from livekit.agents.voice import room_io
from livekit.plugins import silero

from agent.call_end import close_call_record
from agent.payment_agent import PaymentAgent
from agent.recorder import CallRecorder, RecordedAudioOutput, RecordingTap
from agent.runtime import build_llm, build_session, open_call, open_services
from agent.speech.config import stt_provider
from agent.speech.factory import make_stt, make_tts
from agent.speech.models import load_model
from agent.speech_language import follow_language
from payment_tools.dtmf import DtmfMaskingProcessor, DualSourceKeys
from payment_tools.dtmf.warm import warm_up
from voicepay.call_records import caller_hash
from voicepay.logging_setup import install_pii_filter
from voicepay.redis_client import connect
from voicepay.settings import Settings

logger = logging.getLogger(__name__)

_SETTINGS = Settings()


class MissingVoiceService(RuntimeError):
    """A voice call needs a service that is not configured."""


def _prewarm(process: JobProcess) -> None:
    install_pii_filter()
    process.userdata["vad"] = silero.VAD.load()
    if stt_provider(_SETTINGS) == "offline":
        # Loading the offline recogniser takes a second or two: not inside a live call.
        load_model(_SETTINGS.speech.offline_stt)
    # The in-band keypad receiver compiles its loops on first use: here, not in a call.
    warm_up()
    # Everything loaded so far lives for the process: keep it out of the collector's full
    # passes, which otherwise stall a turn for ~200 ms (bench/load/results.md).
    gc.collect()
    gc.freeze()


server = AgentServer(
    setup_fnc=_prewarm,
    # The worker's /metrics sums the call metrics of every job process (see voicepay.metrics).
    prometheus_port=_SETTINGS.metrics.port,
    prometheus_multiproc_dir=_SETTINGS.metrics.multiproc_dir,
)


@server.rtc_session(agent_name=_SETTINGS.agent_name)
async def entrypoint(ctx: JobContext) -> None:
    """Answer one call: connect, find the caller, run the payment agent until hang-up."""
    install_pii_filter()
    settings = _SETTINGS
    if settings.redis_url is None:
        raise MissingVoiceService("set VOICEPAY_REDIS_URL: workers share call state in Redis")
    await ctx.connect()
    caller = await ctx.wait_for_participant(kind=rtc.ParticipantKind.PARTICIPANT_KIND_SIP)
    redis = connect(settings.redis_url)
    outbox = Path(tempfile.gettempdir()) / "voicepay-outbox"
    async with open_services(settings, redis, outbox_dir=outbox) as services:
        language = settings.default_language
        call = await open_call(services, language=language, call_id=ctx.room.name)
        phone = caller.attributes.get("sip.phoneNumber")
        if phone:
            call.events.emit("caller", phone_hash=caller_hash(phone, settings.auth.pepper))
        session = build_session(
            call,
            build_llm(call),
            stt=make_stt(settings, language),
            tts=make_tts(settings, language),
            vad=ctx.proc.userdata["vad"],
        )
        follow_language(call, session)
        agent = PaymentAgent(call)
        # Keys arrive as SIP events and, with some carriers, as tones in the audio: both go
        # through one merger so a press counted twice is counted once.
        call.keypad.attach_room(ctx.room, caller_identity=caller.identity, sip_keys=False)
        keys = DualSourceKeys(call.keypad.press)
        keys.attach_room(ctx.room, caller_identity=caller.identity)
        masking = DtmfMaskingProcessor(on_key=keys.inband)
        # A recording taps the masked caller audio inside the input processor, so it also sees
        # the caller while keypad entry detaches the agent's input (written as a silent pause).
        recorder = (
            CallRecorder(is_paused=lambda: call.capturing) if settings.recording.enabled else None
        )
        processor = masking if recorder is None else RecordingTap(masking, recorder)
        if recorder is not None:
            recorder.follow(session, call.events)

        async def keypad_line(line: str) -> None:
            accepted = await agent.ingress.keypad_line(line)
            if accepted is not None:
                session.generate_reply(user_input=accepted)

        pending: set[asyncio.Task[None]] = set()

        def on_line(line: str) -> None:
            task = asyncio.create_task(keypad_line(line))
            pending.add(task)
            task.add_done_callback(pending.discard)

        call.keypad.on_line = on_line
        await session.start(
            agent,
            room=ctx.room,
            room_options=room_io.RoomOptions(
                audio_input=room_io.AudioInputOptions(noise_cancellation=processor)
            ),
        )
        if recorder is not None and session.output.audio is not None:
            session.output.audio = RecordedAudioOutput(session.output.audio, recorder)
        await call.hangup.wait()
        await session.aclose()
        final = await close_call_record(call, "caller_hung_up")
        call.keypad.detach()
        keys.detach()
        if recorder is not None:
            recorder.save(settings.recording.dir / call.call_id)
    await redis.aclose()
    if not any(e.kind == "human_joined" for e in call.events.history):
        # The caller is alone with the bot: end the call. After a hand-over the room is theirs.
        ctx.delete_room()
    logger.info("call ended", extra={"outcome": final.outcome, "step": final.step.value})
