"""The payment part of the assembly (`bootstrap.build_context` calls these): the gateways of
the configured payment methods, the NOWPayments IPN processor and the TON poller."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from src.services.nowpayments import NowPaymentsClient
from src.services.nowpayments_ipn import NowPaymentsIpn
from src.services.payment_gateways import NowPaymentsGateway, TonGateway
from src.services.payment_providers import Gateway
from src.services.payment_service import PaymentService
from src.services.payment_types import Provider
from src.services.periodic_jobs import JobRunner
from src.services.ton_poller import TonPoller
from src.services.toncenter import TonCenterClient


def build_gateways(settings: Settings) -> dict[Provider, Gateway]:
    """The payment gateways whose settings are given (Stars needs none: always offered).
    NOWPayments: when NOWPAYMENTS_API_KEY is set; TON: when TON_WALLET_ADDRESS is set."""
    gateways: dict[Provider, Gateway] = {}
    if settings.nowpayments_api_key is not None:
        assert settings.public_base_url is not None  # settings refuse the key without it
        client = NowPaymentsClient(
            base_url=settings.nowpayments_api_base,
            api_key=settings.nowpayments_api_key.get_secret_value(),
        )
        gateways[Provider.NOWPAYMENTS] = NowPaymentsGateway(
            client=client, public_base_url=settings.public_base_url
        )
    if settings.ton_wallet_address is not None:
        gateways[Provider.TON] = TonGateway(wallet=settings.ton_wallet_address)
    return gateways


def build_nowpayments_ipn(settings: Settings, payments: PaymentService) -> NowPaymentsIpn | None:
    """What the API's IPN route verifies and processes with (None: NOWPayments is off)."""
    if settings.nowpayments_api_key is None or settings.nowpayments_ipn_secret is None:
        return None
    secret = settings.nowpayments_ipn_secret.get_secret_value()
    return NowPaymentsIpn(payments=payments, ipn_secret=secret)


def build_ton_poller(
    settings: Settings,
    payments: PaymentService,
    sessions: async_sessionmaker[AsyncSession],
    jobs: JobRunner,
) -> TonPoller | None:
    """The TON wallet's poller, registered as a background job (None: TON is off)."""
    if settings.ton_wallet_address is None:
        return None
    key = settings.toncenter_api_key
    client = TonCenterClient(
        base_url=settings.toncenter_api_base,
        api_key=key.get_secret_value() if key is not None else None,
    )
    poller = TonPoller(
        client=client, wallet=settings.ton_wallet_address, payments=payments, sessions=sessions
    )
    jobs.add(poller.job(settings.ton_poll_seconds))
    return poller
