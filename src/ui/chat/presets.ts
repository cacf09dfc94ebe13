/** The three questions the Korean-Vicuna paper shows its model answering, as a user would ask them. */
export interface Preset {
  label: string;
  prompt: string;
}

export const PRESETS: Preset[] = [
  { label: '하와이 3일 여행', prompt: '하와이로 3일 동안 여행을 가려고 해요. 일정별 여행 계획과 예상 예산을 짜 주세요.' },
  { label: '피보나치 파이썬 코드', prompt: '피보나치 수열을 계산하는 파이썬 코드를 작성하고, 코드가 어떻게 동작하는지 설명해 주세요.' },
  { label: '삼국 통일 이후 신라', prompt: '삼국 통일 이후 신라는 어떻게 변화했나요? 정치, 사회, 문화 측면에서 설명해 주세요.' },
];
