"""``manage.py create_demo_users``: the demo learner and instructor of ``make run``, once.

Each account is created the first time only: a password changed afterwards survives every
restart. The instructor gets a small demo bank of draft cards to author (a concept, a multiple
choice and a numeric card), written through the one card write path
(``knowledge.services.cards_import``); an existing demo bank is left as its owner edited it.
Settings without ``DEMO_ACCOUNTS`` (production) create nothing and say so.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from knowledge import services
from knowledge.models import Bank

DEMO_BANK = "demo-instructor"

# The demo bank's cards in fixture form (see fixtures/README.md), drafts for the instructor to
# edit, preview and publish. Fixed uuids: the import updates in place rather than duplicating.
DEMO_CARDS_YAML = r"""
- uuid: 3f0c8a52-6a55-4d57-9a51-0f6d1c2b7e01
  slug: demo-why-relu
  kind: concept
  bank: demo-instructor
  topic: fundamentals/neural-networks
  difficulty: 1
  tags: [demo, activations]
  sources: ["000:24"]
  status: draft
  question:
    zh: "为什么深层网络常用 ReLU 而不是 sigmoid？"
    en: "Why do deep networks usually use ReLU rather than sigmoid?"
  answer:
    zh: "sigmoid 的导数最大只有 $0.25$，层层相乘后梯度迅速消失；ReLU 在正区间导数为 $1$，梯度能传回浅层，计算也更便宜。"
    en: "Sigmoid's derivative is at most $0.25$, so multiplied layer after layer the gradient vanishes; ReLU's derivative is $1$ for positive inputs, so the gradient reaches the early layers, and it is cheaper to compute."
  key_points:
    - text: {zh: "sigmoid 梯度消失", en: "sigmoid gradients vanish"}
      accept:
        zh: ["梯度消失", "0.25"]
        en: ["vanish", "0.25"]
    - text: {zh: "ReLU 正区间导数为 1", en: "ReLU has derivative 1 for positive inputs"}
      accept:
        zh: ["导数为1", "导数为 1", "不饱和"]
        en: ["derivative 1", "derivative of 1", "does not saturate"]
- uuid: 3f0c8a52-6a55-4d57-9a51-0f6d1c2b7e02
  slug: demo-pooling-parameters
  kind: mcq
  bank: demo-instructor
  topic: cnn/pooling
  difficulty: 1
  tags: [demo, pooling]
  sources: ["000:9"]
  status: draft
  question:
    zh: "一个 2×2、步长 2 的最大池化层有多少可学习参数？"
    en: "How many learnable parameters does a 2x2 max-pooling layer with stride 2 have?"
  answer:
    zh: "池化只取窗口内的最大值，没有权重也没有偏置。"
    en: "Pooling takes the maximum of each window; it has no weights and no bias."
  options:
    - text: {zh: "0", en: "0"}
      correct: true
      feedback: {zh: "对：池化没有参数。", en: "Right: pooling has no parameters."}
    - text: {zh: "4", en: "4"}
      correct: false
      feedback: {zh: "窗口大小不是权重。", en: "The window size is not a weight."}
    - text: {zh: "5（4 个权重加 1 个偏置）", en: "5 (4 weights and a bias)"}
      correct: false
      feedback: {zh: "那是 2×2 卷积核的参数量。", en: "That is a 2x2 convolution kernel's count."}
- uuid: 3f0c8a52-6a55-4d57-9a51-0f6d1c2b7e03
  slug: demo-conv-output-size
  kind: numeric
  bank: demo-instructor
  topic: cnn/conv-arithmetic
  difficulty: 2
  tags: [demo, output-size]
  sources: ["000:2"]
  status: draft
  question:
    zh: "计算卷积层的输出尺寸。"
    en: "Compute a convolution layer's output size."
  answer:
    zh: '$$W_\text{out} = \left\lfloor \frac{W + 2P - K}{S} \right\rfloor + 1$$，$W$ 为输入宽度，$K$ 为卷积核大小，$P$ 为填充，$S$ 为步长。'
    en: '$$W_\text{out} = \left\lfloor \frac{W + 2P - K}{S} \right\rfloor + 1$$ with input width $W$, kernel $K$, padding $P$ and stride $S$.'
  template: conv.output_size
  template_version: 1
"""


class Command(BaseCommand):
    help = (
        "Create the demo learner and demo instructor (and the instructor's demo bank) if they "
        "do not exist yet, and print their credentials. Does nothing under production settings."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO_ACCOUNTS", False):
            self.stdout.write(
                self.style.WARNING(
                    f"Demo accounts are never created under {settings.SETTINGS_MODULE} "
                    "(DEMO_ACCOUNTS is off); nothing was changed."
                )
            )
            return
        password: str = settings.DEMO_PASSWORD
        with transaction.atomic():
            learner_new = self._user_once("learner", password, staff=False)
            instructor_new = self._user_once("instructor", password, staff=True)
        bank_note = self._demo_bank_once()

        self.stdout.write("Demo accounts (DEMO_PASSWORD sets the password of new ones):")
        for username, new, where in (
            ("learner", learner_new, ""),
            ("instructor", instructor_new, "  (admin: /admin/)"),
        ):
            shown = password if new else "unchanged (the account already existed)"
            self.stdout.write(f"  {username:<11} username: {username:<11} password: {shown}{where}")
        self.stdout.write(bank_note)

    def _user_once(self, username: str, password: str, *, staff: bool) -> bool:
        """Create the account with ``password`` unless it exists; return whether it was new."""
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            return False
        user = user_model.objects.create_user(username=username, password=password)
        if staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(services.instructors_group_ensure())
        return True

    def _demo_bank_once(self) -> str:
        """Give the demo instructor a demo bank with draft cards, unless the bank exists."""
        if Bank.objects.filter(slug=DEMO_BANK).exists():
            return f"  demo bank '{DEMO_BANK}' exists; left as it is"
        instructor = get_user_model().objects.get(username="instructor")
        items = yaml.safe_load(DEMO_CARDS_YAML)
        try:
            with transaction.atomic():
                # No bank service exists yet (banks come from fixtures/banks.yaml); the cards go
                # through the one card write path below.
                Bank.objects.create(
                    slug=DEMO_BANK,
                    title_zh="演示题库",
                    title_en="Demo bank",
                    description_zh="演示讲师的练习题库：草稿卡片，可随意编辑、预览、发布。",
                    description_en="The demo instructor's practice bank: draft cards to edit, "
                    "preview and publish.",
                    owner=instructor,
                )
                services.cards_import(
                    items=items, user=instructor, name="demo bank", note="demo bank"
                )
        except services.BankImportError as exc:
            problems = "; ".join(str(error) for error in exc.errors)
            raise CommandError(
                f"The demo bank could not be written (is the question bank loaded?): {problems}"
            ) from exc
        return f"  demo bank '{DEMO_BANK}': {len(items)} draft cards for the instructor to author"
